//! The dataset reader on one table file: the first byte picks the table
//! (`Table::ALL[b % 9]`) and whether the rest is written as `.csv` or
//! `.xlsx`; a fixed two-row `institutions.csv` sits beside it (unless the
//! table is `institutions` itself), so foreign keys have something to
//! resolve against. Any bytes must give either a refusal or rows, never a
//! panic, and every file must account for its rows: read = loaded + rejected.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kaopei::dataset::{read_dataset, Table};
use kaopei::model::Models;
use libfuzzer_sys::fuzz_target;

const INSTITUTIONS: &str = "institution_id,name,kind,region,seats\n\
    411000001,许昌市明德安全培训考试中心,both,411000,30\n\
    410100002,郑州市安全技术培训中心,training,410100,\n";

struct Fixture {
    dir: PathBuf,
    models: Models,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kaopei-fuzz-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Fixture { dir, models: Models::load(None).expect("built-in models") }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let f = fixture();
    for e in std::fs::read_dir(&f.dir).expect("temp dir").flatten() {
        let _ = std::fs::remove_file(e.path());
    }
    let table = Table::ALL[usize::from(sel) % Table::ALL.len()];
    let ext = if sel & 0x80 != 0 { "xlsx" } else { "csv" };
    if table != Table::Institutions {
        std::fs::write(f.dir.join("institutions.csv"), INSTITUTIONS).expect("write");
    }
    std::fs::write(f.dir.join(format!("{}.{ext}", table.name())), body).expect("write");
    let Ok(loaded) = read_dataset(&f.dir, &f.models.operations) else { return };
    for file in &loaded.files {
        assert_eq!(
            file.rows_read,
            file.rows_loaded + file.rows_rejected,
            "{}: read {} != loaded {} + rejected {}",
            file.file,
            file.rows_read,
            file.rows_loaded,
            file.rows_rejected
        );
        let rejects = loaded.rejects.iter().filter(|r| r.file == file.file).count() as u64;
        assert_eq!(rejects, file.rows_rejected, "{}: rejects listed vs counted", file.file);
    }
});
