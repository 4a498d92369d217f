//! A small document model for the official forms (整改通知书, 复查意见书)
//! and its two renderings: an editable DOCX (WordprocessingML written
//! directly into a ZIP: the inspector finishes it in WPS or Word) and
//! HTML for printing to PDF through headless Chromium (`report::pdf`).
//!
//! Only what the forms use: a title, headings, paragraphs (with blanks
//! `____` for the inspector), bordered tables, a right-aligned signature
//! block. Output is deterministic: fixed ZIP timestamps, no generated ids.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::report::html::esc;

/// One block of a form.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The document title, centred and large.
    Title(String),
    /// A line above the title (issuing authority, document number), centred.
    Kicker(String),
    /// A section heading (一、…).
    Heading(String),
    /// A paragraph, first-line indented.
    Para(String),
    /// A paragraph without indent (addressee, labels).
    Plain(String),
    /// A table: header row, then rows.
    Table { header: Vec<String>, rows: Vec<Vec<String>> },
    /// Right-aligned lines (signature, seal, date).
    Sign(Vec<String>),
    /// Small print (verification data).
    Small(String),
}

/// A form: its title (for the HTML `<title>`) and blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

/// The text of every block, in order (for tests and plain-text checks).
pub fn plain_text(d: &Document) -> String {
    let mut s = String::new();
    for b in &d.blocks {
        match b {
            Block::Title(t)
            | Block::Kicker(t)
            | Block::Heading(t)
            | Block::Para(t)
            | Block::Plain(t)
            | Block::Small(t) => {
                s.push_str(t);
                s.push('\n');
            }
            Block::Table { header, rows } => {
                for r in std::iter::once(header).chain(rows) {
                    s.push_str(&r.join("\t"));
                    s.push('\n');
                }
            }
            Block::Sign(lines) => {
                for l in lines {
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
    }
    s
}

const CSS: &str = r#"
@page { size: A4; margin: 25mm 22mm 22mm 22mm;
  @bottom-center { content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; font-size: 9pt; color: #444; } }
body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", "宋体", serif; font-size: 12pt; line-height: 1.75; color: #000; margin: 0 auto; max-width: 170mm; }
h1 { text-align: center; font-size: 20pt; letter-spacing: 0.3em; margin: 0.4em 0 0.8em; }
.kicker { text-align: center; margin: 0; }
h2 { font-size: 13pt; margin: 0.9em 0 0.3em; break-after: avoid; }
p { margin: 0.25em 0; }
p.para { text-indent: 2em; }
p.small { font-size: 9pt; color: #333; word-break: break-all; }
table { border-collapse: collapse; width: 100%; font-size: 10pt; margin: 0.4em 0; }
th, td { border: 1px solid #000; padding: 2px 5px; vertical-align: top; word-break: break-all; }
th { background: #eee; }
tr { break-inside: avoid; }
.sign { text-align: right; margin-top: 1.5em; break-inside: avoid; }
"#;

/// The form as one HTML page (A4 print layout, page numbers at the foot).
pub fn to_html(d: &Document) -> String {
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>",
        esc(&d.title)
    );
    for b in &d.blocks {
        match b {
            Block::Title(t) => {
                let _ = write!(s, "<h1>{}</h1>", esc(t));
            }
            Block::Kicker(t) => {
                let _ = write!(s, r#"<p class="kicker">{}</p>"#, esc(t));
            }
            Block::Heading(t) => {
                let _ = write!(s, "<h2>{}</h2>", esc(t));
            }
            Block::Para(t) => {
                let _ = write!(s, r#"<p class="para">{}</p>"#, esc(t));
            }
            Block::Plain(t) => {
                let _ = write!(s, "<p>{}</p>", esc(t));
            }
            Block::Small(t) => {
                let _ = write!(s, r#"<p class="small">{}</p>"#, esc(t));
            }
            Block::Table { header, rows } => {
                s.push_str("<table><thead><tr>");
                for h in header {
                    let _ = write!(s, "<th>{}</th>", esc(h));
                }
                s.push_str("</tr></thead><tbody>");
                for r in rows {
                    s.push_str("<tr>");
                    for c in r {
                        let _ = write!(s, "<td>{}</td>", esc(c));
                    }
                    s.push_str("</tr>");
                }
                s.push_str("</tbody></table>");
            }
            Block::Sign(lines) => {
                s.push_str(r#"<div class="sign">"#);
                for l in lines {
                    let _ = write!(s, "<p>{}</p>", esc(l));
                }
                s.push_str("</div>");
            }
        }
    }
    s.push_str("</body></html>\n");
    s
}

/// XML text escaping.
fn x(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            // Characters XML 1.0 cannot carry.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// One paragraph: `ppr` paragraph properties, `size` in half-points.
fn para(text: &str, ppr: &str, size: u32, bold: bool) -> String {
    let b = if bold { "<w:b/>" } else { "" };
    format!(
        r#"<w:p><w:pPr>{ppr}</w:pPr><w:r><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="宋体"/>{b}<w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
        x(text)
    )
}

fn document_xml(d: &Document) -> String {
    let mut body = String::new();
    for b in &d.blocks {
        match b {
            Block::Title(t) => {
                body.push_str(&para(t, r#"<w:jc w:val="center"/><w:spacing w:before="240" w:after="240"/>"#, 40, true))
            }
            Block::Kicker(t) => body.push_str(&para(t, r#"<w:jc w:val="center"/>"#, 24, false)),
            Block::Heading(t) => body.push_str(&para(t, r#"<w:keepNext/><w:spacing w:before="200"/>"#, 26, true)),
            Block::Para(t) => {
                body.push_str(&para(t, r#"<w:ind w:firstLineChars="200" w:firstLine="480"/>"#, 24, false))
            }
            Block::Plain(t) => body.push_str(&para(t, "", 24, false)),
            Block::Small(t) => body.push_str(&para(t, "", 18, false)),
            Block::Sign(lines) => {
                for l in lines {
                    body.push_str(&para(l, r#"<w:jc w:val="right"/>"#, 24, false));
                }
            }
            Block::Table { header, rows } => {
                body.push_str(
                    r#"<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="000000"/></w:tblBorders></w:tblPr>"#,
                );
                let cols = header.len().max(1);
                body.push_str("<w:tblGrid>");
                for _ in 0..cols {
                    let _ = write!(body, r#"<w:gridCol w:w="{}"/>"#, 9000 / cols);
                }
                body.push_str("</w:tblGrid>");
                for (i, r) in std::iter::once(header).chain(rows).enumerate() {
                    body.push_str(if i == 0 { "<w:tr><w:trPr><w:tblHeader/></w:trPr>" } else { "<w:tr>" });
                    for c in r {
                        let _ = write!(
                            body,
                            "<w:tc><w:tcPr><w:tcW w:w=\"0\" w:type=\"auto\"/></w:tcPr>{}</w:tc>",
                            para(c, "", 20, i == 0)
                        );
                    }
                    body.push_str("</w:tr>");
                }
                body.push_str("</w:tbl>");
            }
        }
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>{body}<w:sectPr><w:footerReference w:type="default" r:id="rIdFooter"/><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1418" w:right="1247" w:bottom="1247" w:left="1247" w:header="851" w:footer="680" w:gutter="0"/></w:sectPr></w:body></w:document>"#
    )
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#;

const DOC_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdFooter" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/></Relationships>"#;

/// Footer with 第 PAGE 页 / 共 NUMPAGES 页 as Word fields.
const FOOTER: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:t xml:space="preserve">第 </w:t></w:r><w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple><w:r><w:t xml:space="preserve"> 页 / 共 </w:t></w:r><w:fldSimple w:instr=" NUMPAGES "><w:r><w:t>1</w:t></w:r></w:fldSimple><w:r><w:t xml:space="preserve"> 页</w:t></w:r></w:p></w:ftr>"#;

fn core_xml(title: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{}</dc:title><dc:creator>kaopei</dc:creator></cp:coreProperties>"#,
        x(title)
    )
}

/// The form as DOCX bytes (deterministic for the same document).
pub fn to_docx(d: &Document) -> std::io::Result<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        let parts: [(&str, String); 6] = [
            ("[Content_Types].xml", CONTENT_TYPES.to_string()),
            ("_rels/.rels", RELS.to_string()),
            ("docProps/core.xml", core_xml(&d.title)),
            ("word/_rels/document.xml.rels", DOC_RELS.to_string()),
            ("word/document.xml", document_xml(d)),
            ("word/footer1.xml", FOOTER.to_string()),
        ];
        for (name, text) in parts {
            z.start_file(name, opts).map_err(std::io::Error::other)?;
            z.write_all(text.as_bytes())?;
        }
        z.finish().map_err(std::io::Error::other)?;
    }
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn docx_holds_the_text_escaped_and_is_deterministic() {
        let d = Document {
            title: "整改通知书".into(),
            blocks: vec![
                Block::Title("整改通知书".into()),
                Block::Para("A & B <C> 依据：____".into()),
                Block::Table {
                    header: vec!["文件".into(), "行".into()],
                    rows: vec![vec!["exam_records.csv".into(), "12".into()]],
                },
                Block::Sign(vec!["（盖章）".into()]),
            ],
        };
        let a = to_docx(&d).unwrap();
        assert_eq!(a, to_docx(&d).unwrap());
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
        let mut xml = String::new();
        z.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
        assert!(xml.contains("A &amp; B &lt;C&gt; 依据：____"), "{xml}");
        assert!(xml.contains("exam_records.csv") && xml.contains("<w:tbl>"));
        let html = to_html(&d);
        assert!(html.contains("A &amp; B &lt;C&gt;") && html.contains("counter(page)"));
        assert!(plain_text(&d).contains("exam_records.csv\t12"));
    }
}
