//! Turning one input file into text the row parsers read: its SHA-256, the
//! encoding (UTF-8 with or without BOM, GB18030/GBK, UTF-16 with BOM, or an
//! XLSX/XLS first sheet, with its merged cell ranges), and refusals for what
//! is not a table at all (empty file, binary data, UTF-16 without a BOM, a
//! ZIP named `.csv`).

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader};

use super::rows::{days_from_civil, fmt_day, fmt_ts};

/// The decoded contents of a CSV file or the cells of a sheet.
pub enum Body {
    /// UTF-8 text (BOM removed). `check_replacement`: the text was decoded
    /// from GB18030 with errors, so a U+FFFD in a field marks a bad row.
    Csv { text: Vec<u8>, check_replacement: bool },
    /// Rows of cell texts; `rows[0]` is the header, at sheet row `first_row`
    /// (1-based).
    Sheet { rows: Vec<Vec<String>>, first_row: u64 },
}

/// What decoding found besides the text.
#[derive(Debug)]
pub struct Decoded {
    pub encoding: &'static str,
    pub notes: Vec<String>,
    /// Merged cell ranges of a sheet as (first row, first col, last row,
    /// last col), indexed like `Body::Sheet::rows` (row 0 = header).
    pub merged: Vec<(usize, usize, usize, usize)>,
    /// 0-based (row, column) of `rows[0][0]` in the sheet, for cell names.
    pub origin: (usize, usize),
    /// Number cells of a sheet too large to hold every digit (|x| >= 1e15:
    /// Excel keeps 15 significant digits), as (row, column, value) indexed
    /// like `rows`: an ID number typed as a number has lost digits.
    pub long_numbers: Vec<(usize, usize, f64)>,
}

/// Decodes CSV bytes to UTF-8. `Err` = the file is refused, with why.
pub fn decode_csv(bytes: &[u8]) -> Result<(Cow<'_, [u8]>, bool, Decoded), String> {
    if bytes.is_empty() {
        return Err("the file is empty (expected a header row)".into());
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Err("the file is a ZIP/XLSX workbook, not CSV text: name it `.xlsx`".into());
    }
    let note = Vec::new();
    for (bom, enc, name) in
        [(&b"\xFF\xFE"[..], encoding_rs::UTF_16LE, "utf-16le"), (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE, "utf-16be")]
    {
        if let Some(rest) = bytes.strip_prefix(bom) {
            let (text, had_errors) = enc.decode_without_bom_handling(rest);
            return Ok((
                Cow::Owned(text.into_owned().into_bytes()),
                had_errors,
                Decoded { encoding: name, notes: note, merged: Vec::new(), origin: (0, 0), long_numbers: Vec::new() },
            ));
        }
    }
    let (body, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    if let Some(order) = utf16_without_bom(body) {
        return Err(format!(
            "the file looks like UTF-16{order} text without a byte-order mark; re-export it as UTF-8 (or GBK) CSV"
        ));
    }
    if looks_binary(body) {
        return Err("the file is binary data, not CSV text (control bytes in its first 64 KB)".into());
    }
    if std::str::from_utf8(body).is_ok() {
        let encoding = if bom { "utf-8-bom" } else { "utf-8" };
        return Ok((
            Cow::Borrowed(body),
            false,
            Decoded { encoding, notes: note, merged: Vec::new(), origin: (0, 0), long_numbers: Vec::new() },
        ));
    }
    // Not UTF-8 as a whole: GB18030 (a superset of GBK), decided per line so
    // that a file mixing UTF-8 and GBK lines still reads every line right.
    let mut out = Vec::with_capacity(body.len() + body.len() / 2);
    let (mut utf8_lines, mut gb_lines, mut errors) = (0u64, 0u64, false);
    for line in body.split_inclusive(|b| *b == b'\n') {
        if std::str::from_utf8(line).is_ok() {
            if !line.is_ascii() {
                utf8_lines += 1;
            }
            out.extend_from_slice(line);
        } else {
            gb_lines += 1;
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(line);
            errors |= had_errors;
            out.extend_from_slice(text.as_bytes());
        }
    }
    let mut notes = note;
    let encoding = if utf8_lines > 0 {
        notes.push(format!(
            "mixed encodings: {utf8_lines} line(s) read as UTF-8, {gb_lines} line(s) as GB18030; re-export in one encoding"
        ));
        "mixed"
    } else {
        "gb18030"
    };
    Ok((
        Cow::Owned(out),
        errors,
        Decoded { encoding, notes, merged: Vec::new(), origin: (0, 0), long_numbers: Vec::new() },
    ))
}

/// `Some("LE"/"BE")` when the start of the file is ASCII text spelt as
/// UTF-16: NUL bytes in many odd (LE) or even (BE) positions and none in
/// the others (Chinese characters have no NUL half, ASCII ones do).
fn utf16_without_bom(b: &[u8]) -> Option<&'static str> {
    let head = &b[..b.len().min(4096) & !1];
    if head.len() < 8 {
        return None;
    }
    let pairs = head.len() / 2;
    let zeros_at = |k: usize| head.iter().skip(k).step_by(2).filter(|&&c| c == 0).count();
    let (even, odd) = (zeros_at(0), zeros_at(1));
    if odd * 10 >= pairs * 3 && even == 0 {
        Some("LE")
    } else if even * 10 >= pairs * 3 && odd == 0 {
        Some("BE")
    } else {
        None
    }
}

/// More than 1% control bytes (other than tab, CR, LF) in the first 64 KB.
fn looks_binary(b: &[u8]) -> bool {
    let head = &b[..b.len().min(65_536)];
    let ctrl = head.iter().filter(|&&c| c < 0x20 && !matches!(c, b'\t' | b'\r' | b'\n' | 0x0C)).count();
    ctrl * 100 > head.len() || (head.len() < 100 && ctrl > 0 && ctrl * 4 > head.len())
}

/// Reads the first sheet of a workbook into cell texts.
pub fn read_sheet(bytes: &[u8]) -> Result<(Body, Decoded), String> {
    if bytes.is_empty() {
        return Err("the file is empty (expected a workbook)".into());
    }
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| format!("not a readable XLSX/XLS workbook: {e}"))?;
    let names = book.sheet_names();
    let mut notes = Vec::new();
    if names.len() > 1 {
        notes.push(format!(
            "workbook has {} sheets: read the first (`{}`), ignored {}",
            names.len(),
            names[0],
            names[1..].iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    let range = match book.worksheet_range_at(0) {
        Some(r) => r.map_err(|e| format!("cannot read the first sheet: {e}"))?,
        None => return Err("the workbook has no sheets".into()),
    };
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let first_row = u64::from(r0) + 1;
    let rows: Vec<Vec<String>> = range.rows().map(|row| row.iter().map(cell_text).collect()).collect();
    let mut long_numbers = Vec::new();
    for (ri, row) in range.rows().enumerate() {
        for (ci, cell) in row.iter().enumerate() {
            let v = match cell {
                Data::Float(f) => *f,
                Data::Int(i) => *i as f64,
                _ => continue,
            };
            if v.abs() >= 1e15 {
                long_numbers.push((ri, ci, v));
            }
        }
    }
    if rows.is_empty() {
        return Err("the first sheet is empty (expected a header row)".into());
    }
    // Merged cells hold their value in the first cell only; the reader does
    // not copy it down (that would be "fixing" the data), but it says so.
    let regions = match &mut book {
        calamine::Sheets::Xlsx(x) => x.merge_cells_by_sheet_id(0).ok(),
        calamine::Sheets::Xls(x) => x.merge_cells_by_sheet_id(0).ok(),
        _ => None,
    };
    let rel = |v: u32, o: u32| v.saturating_sub(o) as usize;
    let merged: Vec<(usize, usize, usize, usize)> = regions
        .unwrap_or_default()
        .iter()
        .map(|d| (rel(d.start.0, r0), rel(d.start.1, c0), rel(d.end.0, r0), rel(d.end.1, c0)))
        .collect();
    if let Some(&(a, b, c, d)) = merged.first() {
        notes.push(format!(
            "the sheet has {} merged cell range(s) (first {}:{}); a merged range's value is only in its first cell, \
             so its other rows are read as empty: unmerge and fill the cells before export",
            merged.len(),
            cell_name(a + r0 as usize, b + c0 as usize),
            cell_name(c + r0 as usize, d + c0 as usize)
        ));
    }
    Ok((
        Body::Sheet { rows, first_row },
        Decoded { encoding: "xlsx", notes, merged, origin: (r0 as usize, c0 as usize), long_numbers },
    ))
}

/// `A1`-style name of a 0-based cell.
pub fn cell_name(row: usize, col: usize) -> String {
    let mut letters = Vec::new();
    let mut c = col + 1;
    while c > 0 {
        letters.push(b'A' + ((c - 1) % 26) as u8);
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

/// A cell as the text a CSV export would hold: whole numbers without `.0`,
/// Excel serial dates as `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`.
pub fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        Data::DateTime(dt) if dt.is_duration() => float_text(dt.as_f64()),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            let mut ts = i64::from(days_from_civil(i32::from(y), u32::from(mo), u32::from(d))) * 86_400
                + i64::from(h) * 3600
                + i64::from(mi) * 60
                + i64::from(s);
            if ms >= 500 {
                ts += 1;
            }
            if ts.rem_euclid(86_400) == 0 && dt.as_f64().fract() == 0.0 {
                fmt_day(ts.div_euclid(86_400) as i32)
            } else {
                fmt_ts(ts)
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.replace('T', " "),
        Data::Error(e) => format!("#ERROR {e:?}"),
    }
}

fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_bom_and_gbk() {
        let (t, _, d) = decode_csv("a,b\n是,否\n".as_bytes()).unwrap();
        assert_eq!((&*t, d.encoding), ("a,b\n是,否\n".as_bytes(), "utf-8"));
        let (t, _, d) = decode_csv("\u{FEFF}a\n".as_bytes()).unwrap();
        assert_eq!((&*t, d.encoding), (&b"a\n"[..], "utf-8-bom"));
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,身份证号\n张三,1\n");
        let (t, errs, d) = decode_csv(&gbk).unwrap();
        assert_eq!((std::str::from_utf8(&t).unwrap(), errs, d.encoding), ("姓名,身份证号\n张三,1\n", false, "gb18030"));
    }

    #[test]
    fn refuses_non_tables() {
        assert!(decode_csv(b"").unwrap_err().contains("empty"));
        assert!(decode_csv(b"PK\x03\x04rest").unwrap_err().contains("XLSX"));
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        assert!(decode_csv(&garbage).unwrap_err().contains("binary"));
        let utf16: Vec<u8> = "a,b\n1,2\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert!(decode_csv(&utf16).unwrap_err().contains("UTF-16LE text without a byte-order mark"));
        let utf16: Vec<u8> = "a,b\n1,2\n".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert!(decode_csv(&utf16).unwrap_err().contains("UTF-16BE"));
    }

    #[test]
    fn mixed_lines_each_decoded() {
        let mut bytes = "姓名\n张三\n".as_bytes().to_vec();
        bytes.extend_from_slice(&encoding_rs::GBK.encode("李四\n").0);
        let (t, _, d) = decode_csv(&bytes).unwrap();
        assert_eq!((std::str::from_utf8(&t).unwrap(), d.encoding), ("姓名\n张三\n李四\n", "mixed"));
    }

    #[test]
    fn cell_names() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(2, 25), "Z3");
        assert_eq!(cell_name(9, 26), "AA10");
        assert_eq!(cell_name(0, 701), "ZZ1");
        assert_eq!(cell_name(0, 702), "AAA1");
    }

    #[test]
    fn cells_as_text() {
        assert_eq!(cell_text(&Data::Float(30.0)), "30");
        assert_eq!(cell_text(&Data::Float(0.93)), "0.93");
        let dt = calamine::ExcelDateTime::new(45483.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(dt)), "2024-07-10");
        let dt = calamine::ExcelDateTime::new(45483.354166666664, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(dt)), "2024-07-10 08:30:00");
    }
}
