//! Statistics the checks share: exact binomial and Poisson-binomial tails,
//! multiplicity control, overdispersed funnel limits, heaping, scan
//! statistics and robust summaries. Pure functions, tested against
//! reference values from R / SciPy quoted in each test.

pub mod betabinom;
pub mod binom;
pub mod digits;
pub mod evidence;
pub mod fdr;
pub mod fisher;
pub mod funnel;
pub mod heaping;
pub mod lnirt;
pub mod poibin;
pub mod robust;
pub mod scan;
pub mod similarity;
