//! Synthetic datasets with planted falsification (and `truth.csv`), for the
//! demo, tests, calibration and benchmarks.
