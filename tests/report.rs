//! The HTML reports, rendered from a hand-built `RunResult` that covers
//! every chart kind, every evidence column kind and CCTV thumbnails: every
//! institution gets a page, the structure of a report is fixed, input text
//! is escaped, no full ID number leaks, and headless Chromium opens the
//! pages without console errors (and prints them to PDF).

use std::path::{Path, PathBuf};
use std::process::Command;

use kaopei::checks::{
    CallbackCheck, CctvCheck, CertCheck, Chart, ColKind, EvidenceTable, ExamCheck, Finding, FrameRef, Source,
    SubjectKind, TrainingCheck,
};
use kaopei::model::Scorecard;
use kaopei::report::{html, pdf, HtmlOptions, Lang};
use kaopei::run::{InputFile, RunInfo, RunResult};
use kaopei::score::score_institution;

const EVIL: &str = "<script>alert(1)</script>";
const ID_A: &str = "410102199001011234";
const ID_B: &str = "11010519491231002X";
const PHONE: &str = "13812345678";

/// A fixed scorecard, so the snapshot does not move when the project's
/// model file is recalibrated.
const TEST_CARD: &str = r#"
model = "test"
version = "1"
[tiers]
red = 70.0
orange = 45.0
yellow = 20.0
[rectification]
max_remaining_severity = 0.3
max_tier = "yellow"
deadline_days = 30
[scoring]
# Plain noisy-OR (no damping, no gate): the report tests are about rendering.
family_damping = 1.0
corroborate_min = 0.0
red_single_min = 0.0
screening = []
screening_cap = 1.0
families = {}
[checks."training.hours_short"]
weight = 0.55
title_zh = "学时不足"
title_en = "Insufficient training hours"
action_zh = "补足学时。"
action_en = "Deliver the missing hours."
[checks."exam.pass_rate"]
weight = 0.4
title_zh = "通过率异常偏高"
title_en = "Pass rate far above peers"
action_zh = "复核考试过程。"
action_en = "Review how exams are run."
[checks."exam.score_heaping"]
weight = 0.4
title_zh = "成绩在合格线堆积"
title_en = "Scores heaped at the pass mark"
action_zh = "复核实操评分。"
action_en = "Review practical marking."
[checks."exam.submit_cluster"]
weight = 0.45
title_zh = "集中交卷"
title_en = "Clustered submissions"
action_zh = "调查场次。"
action_en = "Investigate the session."
[checks."cctv.frozen"]
weight = 0.5
title_zh = "录像画面静止"
title_en = "Frozen footage"
action_zh = "提交原始录像。"
action_en = "Hand over the original footage."
[checks."callback.denied_attendance"]
weight = 0.5
title_zh = "回访学员否认参训"
title_en = "Trainee denies attending"
action_zh = "说明情况。"
action_en = "Explain."
[checks."cert.number_mismatch"]
weight = 0.5
title_zh = "证书编号与身份证号不符"
title_en = "Certificate number does not match the ID"
action_zh = "更正证书。"
action_en = "Correct the certificates."
[family]
"#;

fn card() -> Scorecard {
    Scorecard::from_toml(TEST_CARD).unwrap()
}

/// A small PNG thumbnail (a grey gradient), as the video sampler keeps them.
fn thumbnail(shade: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(160, 90, |x, y| {
        let v = shade.saturating_add(((x + y) / 4) as u8);
        image::Rgb([v, v, v.saturating_add(10)])
    });
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Png).unwrap();
    buf.into_inner()
}

trait WithFrames {
    fn with_frames(self, frames: Vec<FrameRef>) -> Self;
}

impl WithFrames for Finding {
    fn with_frames(mut self, frames: Vec<FrameRef>) -> Self {
        self.frames = frames;
        self
    }
}

fn findings_of_ti001() -> Vec<Finding> {
    let mut hours = EvidenceTable::new(
        "学时不足的学员",
        "Trainees short of hours",
        "attendance",
        &[
            ("身份证号", ColKind::PersonId),
            ("姓名", ColKind::Name),
            ("电话", ColKind::Phone),
            ("签到", ColKind::Time),
            ("学时", ColKind::Number),
            ("备注", ColKind::Text),
        ],
    );
    for (i, id) in [ID_A, ID_B].iter().enumerate() {
        hours.push_limited(
            vec![
                id.to_string(),
                "张三丰".into(),
                PHONE.into(),
                format!("2024-07-1{i} 08:30:00"),
                format!("{}", 96 + i),
                format!("证书号T{id}"),
            ],
            50,
        );
    }
    hours.total_rows = 37;
    let heat = Chart::HeatStrip {
        title: "学员每日学时".into(),
        row_labels: vec![format!("张三丰 {ID_A}"), "李四".into(), "王五".into()],
        col_labels: (1..=12).map(|d| format!("07-{d:02}")).collect(),
        values: vec![
            (0..12).map(|d| if d % 3 == 0 { 12.0 } else { 0.0 }).collect(),
            (0..12).map(|d| (d % 5) as f64 * 2.0).collect(),
            vec![8.0; 12],
        ],
    };
    let funnel = Chart::Funnel {
        title: "低压电工作业 理论考试通过率".into(),
        points: (0..40)
            .map(|i| (format!("P{i:03}"), 20.0 + i as f64 * 7.0, 0.7 + ((i * 37) % 17) as f64 / 100.0))
            .chain([("TI001".to_string(), 180.0, 0.99)])
            .collect(),
        highlight: "TI001".into(),
        target: 0.78,
        limits: (1..=30)
            .map(|k| {
                let n = k as f64 * 10.0;
                let se = (0.78f64 * 0.22 / n).sqrt();
                (n, 0.78 - 1.96 * se, 0.78 + 1.96 * se, 0.78 - 3.09 * se, (0.78 + 3.09 * se).min(1.0))
            })
            .collect(),
    };
    let hist = Chart::Histogram {
        title: "实操考试成绩分布".into(),
        bin_edges: (0..=10).map(|k| 50.0 + k as f64 * 5.0).collect(),
        this: vec![0.0, 0.0, 0.02, 0.03, 0.05, 0.02, 0.60, 0.15, 0.08, 0.05],
        peers: vec![0.02, 0.04, 0.06, 0.10, 0.14, 0.16, 0.16, 0.14, 0.10, 0.08],
        marker: Some(80.0),
    };
    let timeline = Chart::Timeline {
        title: "场次 S0107 交卷时间".into(),
        start_label: "2024-07-20 09:00".into(),
        minutes: (0..30).map(|i| if i < 18 { 31.0 + (i % 4) as f64 * 0.5 } else { 45.0 + i as f64 * 2.5 }).collect(),
        highlight: (0..30).map(|i| i < 18).collect(),
        window_end: 120.0,
    };
    let mut pairs = EvidenceTable::new(
        "答案高度相同的考生对",
        "Pairs with identical answers",
        "exam_responses",
        &[
            ("考生A", ColKind::PersonId),
            ("考生B", ColKind::PersonId),
            ("座位", ColKind::Text),
            ("相同错误答案数", ColKind::Number),
        ],
    );
    pairs.push_limited(vec![ID_A.into(), ID_B.into(), "A03|A04".into(), "17".into()], 50);
    pairs.total_rows = 1;
    let frames = vec![
        FrameRef {
            video_id: "V-0001".into(),
            video_time: 600.0,
            wall_time: "2024-07-20 09:10:00".into(),
            thumbnail_png: Some(thumbnail(40)),
            caption: "画面静止开始".into(),
        },
        FrameRef {
            video_id: "V-0001".into(),
            video_time: 3000.0,
            wall_time: "2024-07-20 09:50:00".into(),
            thumbnail_png: Some(thumbnail(40)),
            caption: "画面仍与 09:10 相同".into(),
        },
        FrameRef {
            video_id: "V-0002".into(),
            video_time: 12.5,
            wall_time: "2024-07-21 09:00:12".into(),
            thumbnail_png: None,
            caption: "缩略图缺失".into(),
        },
    ];
    vec![
        Finding::new("TI001", TrainingCheck::HoursShort, 0.85)
            .stat(0.62, None)
            .summary(
                format!("37 名学员学时不足大纲要求的 148 学时，其中学员 {ID_A} 仅 96 学时"),
                format!("37 trainees short of the 148-hour syllabus; trainee {ID_A} has only 96 hours"),
            )
            .method("按 AQ 8011-2023 的学时定义累计每名学员的签到时长，与作业类别大纲学时比较", "Hours per trainee (AQ 8011-2023 definition) against the operation's syllabus hours")
            .evidence(hours)
            .chart(heat)
            .flag(SubjectKind::Person, ID_A, 0.9),
        Finding::new("TI001", ExamCheck::PassRate, 0.7)
            .stat(4.1, Some(2.3e-6))
            .summary("理论考试通过率 99%（180 人），显著高于同类考点", "Theory pass rate 99% (n = 180), far above peers")
            .method("与同作业类别、同科目的 41 个考点比较，间接标准化，过度离散漏斗图，BH 校正", "Indirectly standardised against 41 centres of the same operation and part; overdispersed funnel; BH-adjusted")
            .chart(funnel),
        Finding::new("TI001", ExamCheck::ScoreHeaping, 0.55)
            .stat(3.2, Some(0.0004))
            .summary("实操成绩 60% 集中在 80–84 分", "60% of practical scores sit at 80–84")
            .method("合格线上下相邻分段之比与同类考点比较（二项检验）", "Ratio just above vs just below the pass mark against peers (binomial test)")
            .chart(hist),
        Finding::new("TI001", ExamCheck::SubmitCluster, 0.6)
            .stat(18.0, Some(0.001))
            .summary("18 名考生在开考后 31–33 分钟内集中交卷", "18 candidates submitted within 31–33 minutes")
            .method("扫描统计量，与本场次交卷时间分布的置换零分布比较", "Scan statistic against a permutation null from the session's own spread")
            .evidence(pairs)
            .chart(timeline),
        Finding::new("TI001", CctvCheck::Frozen, 0.5)
            .stat(2400.0, None)
            .summary("视频 V-0001 在 09:10–09:50 画面静止 40 分钟", "Video V-0001 frozen for 40 minutes (09:10–09:50)")
            .method("每 2 秒采样一帧，感知哈希差异低于阈值的连续区间", "Frames sampled every 2 s; runs of near-identical perceptual hashes")
            .chart(Chart::Bars {
                title: "各视频静止时长（分钟）".into(),
                bars: vec![("V-0001".into(), 40.0), ("V-0002".into(), 3.0)],
            })
            .evidence({
                let mut t = EvidenceTable::new("静止区间", "Frozen runs", "cctv", &[("视频", ColKind::Text), ("开始", ColKind::Time), ("结束", ColKind::Time)]);
                t.push_limited(vec!["V-0001".into(), "09:10:00".into(), "09:50:00".into()], 50);
                t
            })
            .flag(SubjectKind::Video, "V-0001", 0.8)
            .with_frames(frames),
        Finding::new("TI001", CallbackCheck::DeniedAttendance, 0.3)
            .summary(format!("回访学员（电话 {PHONE}）称未参加培训"), format!("A trainee (phone {PHONE}) says they never attended"))
            .method("电话回访记录", "Phone callback records")
            .evidence({
                let mut t = EvidenceTable::new("回访记录", "Callbacks", "callbacks", &[("身份证号", ColKind::PersonId), ("电话", ColKind::Phone), ("备注", ColKind::Text)]);
                t.push_limited(vec![ID_B.into(), PHONE.into(), "称从未参加".into()], 50);
                t
            }),
        {
            // A finding kept in a store by an older version, under an id no longer configured.
            let mut f = Finding::new("TI001", CertCheck::Duplicate, 0.2).summary("未列入评分模型的检查", "A check not in the scorecard");
            f.check = "no.such_check".into();
            f
        },
    ]
}

fn sample_run() -> RunResult {
    let card = card();
    let mut findings = findings_of_ti001();
    findings.push(
        Finding::new(EVIL, CertCheck::NumberMismatch, 0.9)
            .summary(format!("<img src=x onerror=alert(2)> 证书号 T{ID_A} 与持证人不符"), "<b>bold</b> mismatch")
            .method("<iframe>", "<iframe>")
            .evidence({
                let mut t = EvidenceTable::new(
                    "<i>t</i>",
                    "<i>t</i>",
                    "certificates",
                    &[("<th>", ColKind::Text), ("证件号", ColKind::PersonId)],
                );
                t.push_limited(vec![EVIL.into(), ID_A.into()], 50);
                t
            })
            .chart(Chart::Bars { title: EVIL.into(), bars: vec![(EVIL.into(), 1.0)] }),
    );
    let all = [Source::Training, Source::Exam, Source::Cert, Source::Cctv, Source::Callback];
    let inst = [
        ("TI001", "郑州安达职业培训学校", "410102", "both", all.to_vec()),
        (EVIL, EVIL, EVIL, "training", vec![Source::Cert]),
        ("TI003", "洛阳诚信安全培训中心", "410302", "training", vec![Source::Training, Source::Cert]),
        ("EX004", "开封考点", "410202", "exam", vec![]),
    ];
    let scores = inst
        .iter()
        .map(|(id, name, region, kind, audited)| {
            let fs: Vec<&Finding> = findings.iter().filter(|f| f.institution_id == *id).collect();
            score_institution(&card, id, name, region, kind, audited.clone(), &fs)
        })
        .collect();
    let overview = vec![
        match &findings[1].charts[0] {
            Chart::Funnel { points, limits, target, .. } => Chart::Funnel {
                title: "低压电工作业 · 理论".into(),
                points: points.clone(),
                highlight: String::new(),
                target: *target,
                limits: limits.clone(),
            },
            _ => unreachable!(),
        },
        Chart::Funnel {
            title: "焊接与热切割作业 · 实操".into(),
            points: vec![("TI001".into(), 50.0, 0.9), ("TI003".into(), 80.0, 0.8)],
            highlight: String::new(),
            target: 0.84,
            limits: vec![(10.0, 0.6, 1.0, 0.5, 1.0), (100.0, 0.77, 0.91, 0.73, 0.95)],
        },
    ];
    RunResult {
        info: RunInfo {
            run_id: 7,
            command: "score".into(),
            args: vec!["score".into(), "data".into()],
            version: kaopei::VERSION.into(),
            dataset: "sample_data/demo".into(),
            started_at: "2024-08-01 10:00:00".into(),
            operations_sha256: "a".repeat(64),
            scorecard_sha256: kaopei::output::sha256_hex(TEST_CARD.as_bytes()),
            period: Some(("2024-07-01".into(), "2024-07-31".into())),
        },
        inputs: vec![
            InputFile {
                table: "institutions".into(),
                path: "institutions.csv".into(),
                size: 512,
                sha256: "0f".repeat(32),
                rows_read: 4,
                rows_loaded: 4,
                rows_rejected: 0,
            },
            InputFile {
                table: "attendance".into(),
                path: format!("attendance_{EVIL}.csv"),
                size: 90210,
                sha256: "ab".repeat(32),
                rows_read: 1200,
                rows_loaded: 1197,
                rows_rejected: 3,
            },
        ],
        scores,
        findings,
        overview,
        unreadable: Vec::new(),
    }
}

fn render(dir: &Path, opts: &HtmlOptions) -> PathBuf {
    html::write_all(dir, &sample_run(), &card(), opts).unwrap()
}

fn all_pages(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = vec![dir.join("index.html")];
    for e in std::fs::read_dir(dir.join("reports")).unwrap() {
        files.push(e.unwrap().path());
    }
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap())).collect()
}

#[test]
fn every_institution_gets_a_report_linked_from_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let index = render(dir.path(), &HtmlOptions::default());
    assert_eq!(index, dir.path().join("index.html"));
    let text = std::fs::read_to_string(&index).unwrap();
    let run = sample_run();
    for s in &run.scores {
        let name = html::report_file_name(&s.institution_id);
        assert!(dir.path().join("reports").join(&name).is_file(), "{name}");
        assert!(text.contains(&format!("href=\"reports/{name}\"")), "{name}");
    }
    // Ranked by score: the red institution's row comes before the green one's.
    let pos = |id: &str| text.find(&format!("reports/{id}.html")).unwrap();
    assert!(pos("TI001") < pos("TI003"));
    assert!(text.contains("t-red") && text.contains("未审计"));
    // Every chart kind is drawn as SVG in the TI001 report, and thumbnails are embedded.
    let r = std::fs::read_to_string(dir.path().join("reports/TI001.html")).unwrap();
    // Contributions, heat strip, funnel, histogram, timeline, bars.
    assert_eq!(r.matches("<svg").count(), 6);
    assert_eq!(r.matches("data:image/png;base64,").count(), 2);
    assert!(r.contains("（无截图）"));
    assert!(r.contains("2024-08-31"), "deadline = run date + 30 days");
    assert!(r.contains("显示 2 条，共 37"));
    assert!(!r.contains("<script"), "reports carry no script");
}

/// The headings of a report, in order: its structure.
fn headings(page: &str) -> Vec<String> {
    let re = regex::Regex::new(r"(?s)<h([123])[^>]*>(.*?)</h[123]>").unwrap();
    let tag = regex::Regex::new(r"<[^>]+>").unwrap();
    re.captures_iter(page).map(|c| format!("h{} {}", &c[1], tag.replace_all(&c[2], "").trim())).collect()
}

#[test]
fn report_structure_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    render(dir.path(), &HtmlOptions::default());
    let page = std::fs::read_to_string(dir.path().join("reports/TI001.html")).unwrap();
    assert_eq!(
        headings(&page),
        [
            "h1 郑州安达职业培训学校",
            "h2 评估结论",
            "h2 问题详情",
            "h3 1. 学时不足 training.hours_short",
            "h3 2. 通过率异常偏高 exam.pass_rate",
            "h3 3. 集中交卷 exam.submit_cluster",
            "h3 4. 录像画面静止 cctv.frozen",
            "h3 5. 成绩在合格线堆积 exam.score_heaping",
            "h3 6. 回访学员否认参训 callback.denied_attendance",
            "h3 7. no.such_check （评分模型中未列出的检查项） no.such_check",
            "h2 整改清单",
            "h2 未审计的数据来源",
            "h2 输入文件清单",
        ]
    );
    let index = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert_eq!(
        headings(&index),
        [
            "h1 安全生产培训考试机构风险评估总览",
            "h2 风险等级分布",
            "h2 机构风险排名 (机构数: 4)",
            "h2 各地区风险等级分布",
            "h2 全省通过率漏斗图",
            "h2 未审计的数据来源",
            "h2 输入文件清单",
        ]
    );
}

#[test]
fn english_reports_take_every_string_from_the_english_table() {
    let dir = tempfile::tempdir().unwrap();
    render(dir.path(), &HtmlOptions { lang: Lang::En, ..HtmlOptions::default() });
    let page = std::fs::read_to_string(dir.path().join("reports/TI001.html")).unwrap();
    let h = headings(&page);
    assert_eq!(h[1], "h2 Summary");
    assert_eq!(h[3], "h3 1. Insufficient training hours training.hours_short");
    assert!(page.contains(r#"<html lang="en">"#));
    for zh in ["评估结论", "整改清单", "问题详情", "未审计", "证据"] {
        assert!(!page.contains(zh), "{zh}");
    }
}

#[test]
fn input_text_is_escaped_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    render(dir.path(), &HtmlOptions::default());
    for (path, page) in all_pages(dir.path()) {
        for bad in ["<script>alert", "<img src=x", "<iframe>", "<b>bold", "<i>t</i>", "<th><"] {
            assert!(!page.contains(bad), "{} contains {bad}", path.display());
        }
        // The only script is the index's own sorting code.
        let scripts = page.matches("<script").count();
        let want = usize::from(path.ends_with("index.html"));
        assert_eq!(scripts, want, "{}", path.display());
    }
    let evil = html::report_file_name(EVIL);
    assert!(!evil.contains('<') && !evil.contains('/'));
    let page = std::fs::read_to_string(dir.path().join("reports").join(&evil)).unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

fn full_ids(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"(?:^|[^0-9])([0-9]{17}[0-9Xx])(?:[^0-9]|$)").unwrap();
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

#[test]
fn no_full_id_or_phone_number_unless_unmasked() {
    let dir = tempfile::tempdir().unwrap();
    render(dir.path(), &HtmlOptions::default());
    for (path, page) in all_pages(dir.path()) {
        assert_eq!(full_ids(&page), Vec::<String>::new(), "{}", path.display());
        assert!(!page.contains(PHONE), "{}", path.display());
    }
    let ti = std::fs::read_to_string(dir.path().join("reports/TI001.html")).unwrap();
    assert!(ti.contains("410***********1234") && ti.contains("138****5678"));
    // The fixture does carry full numbers: unmasked reports show them.
    let open = tempfile::tempdir().unwrap();
    render(open.path(), &HtmlOptions { unmasked: true, ..HtmlOptions::default() });
    let ti = std::fs::read_to_string(open.path().join("reports/TI001.html")).unwrap();
    let found = full_ids(&ti);
    assert!(found.contains(&ID_A.to_string()) && found.contains(&ID_B.to_string()), "{found:?}");
    assert!(ti.contains(PHONE));
}

/// Runs headless Chromium on a page: (screenshot written, DOM, stderr log).
fn chromium(page: &Path, shot: &Path) -> (String, String) {
    let bin = pdf::find_chromium().expect("chromium is installed at /usr/bin/chromium");
    let profile = tempfile::tempdir().unwrap();
    let url = pdf::file_url(&std::fs::canonicalize(page).unwrap());
    let run = |extra: &[String]| {
        let out = Command::new(&bin)
            .args(pdf::headless_args(profile.path()))
            .args(["--enable-logging=stderr", "--v=0", "--window-size=1280,1600", "--hide-scrollbars"])
            .args(extra)
            .arg(&url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (_, log1) = run(&[format!("--screenshot={}", shot.display())]);
    let (dom, log2) = run(&["--dump-dom".to_string()]);
    (dom, format!("{log1}\n{log2}"))
}

#[test]
fn chromium_opens_the_index_and_a_report_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    let index = render(dir.path(), &HtmlOptions::default());
    for (page, title) in [
        (index, "<title>安全生产培训考试机构风险评估总览</title>"),
        (
            dir.path().join("reports/TI001.html"),
            "<title>郑州安达职业培训学校 · 安全生产培训考试机构审计证据报告</title>",
        ),
    ] {
        let shot = dir.path().join(format!("{}.png", page.file_stem().unwrap().to_string_lossy()));
        let (dom, log) = chromium(&page, &shot);
        assert!(dom.contains(title), "{}", &dom[..dom.len().min(400)]);
        assert!(dom.contains("<svg"), "charts are drawn");
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(console.is_empty(), "console messages: {console:?}");
        let png = std::fs::read(&shot).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "screenshot {}", shot.display());
        // For a human look: `KAOPEI_KEEP_SCREENSHOTS=DIR cargo test --test report chromium`.
        if let Ok(keep) = std::env::var("KAOPEI_KEEP_SCREENSHOTS") {
            let keep = Path::new(&keep);
            std::fs::create_dir_all(keep.join("reports")).unwrap();
            std::fs::copy(&shot, keep.join(shot.file_name().unwrap())).unwrap();
            let rel = page.strip_prefix(dir.path()).unwrap();
            std::fs::copy(&page, keep.join(rel)).unwrap();
        }
    }
    // Scripts ran: the filter controls of the index were revealed.
    let (dom, _) = chromium(&dir.path().join("index.html"), &dir.path().join("again.png"));
    assert!(dom.contains(r#"id="controls""#) && !dom.contains(r#"id="controls" hidden"#));
}

#[test]
fn reports_print_to_pdf() {
    let dir = tempfile::tempdir().unwrap();
    render(dir.path(), &HtmlOptions::default());
    let page = dir.path().join("reports/TI001.html");
    let out = dir.path().join("TI001.pdf");
    pdf::print_to_pdf(&page, &out).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"%PDF") && bytes.len() > 20_000, "{} bytes", bytes.len());
}

#[test]
fn report_command_without_a_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.db");
    let out = Command::new(env!("CARGO_BIN_EXE_kaopei")).args(["report", "--db"]).arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_kaopei"))
        .args(["compare", "--db"])
        .arg(&missing)
        .args(["--institution", "TI001", "1", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out =
        Command::new(env!("CARGO_BIN_EXE_kaopei")).args(["report", "--db", "x.db", "--lang", "fr"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown report language"));
}

/// Run B: the follow-up of TI001 after its deadline. Hours are still short
/// (weakly), a new certificate problem appears, everything else is fixed.
fn follow_up_run(a: &RunResult) -> RunResult {
    let card = card();
    let mut b = a.clone();
    b.info.run_id = 9;
    b.info.started_at = "2024-09-15 10:00:00".into();
    let mut hours = a.findings[0].clone();
    hours.severity = 0.1;
    hours.summary_zh = format!("仍有 2 名学员学时不足，其中 {ID_B}");
    let new = Finding::new("TI001", CertCheck::NumberMismatch, 0.4)
        .summary(format!("证书 T{ID_A} 与持证人身份证号不符"), "A certificate does not match its holder's ID");
    b.findings = vec![hours, new];
    let fs: Vec<&Finding> = b.findings.iter().collect();
    let old = a.scores.iter().find(|s| s.institution_id == "TI001").unwrap();
    b.scores = vec![score_institution(&card, "TI001", &old.name, &old.region, &old.kind, old.audited.clone(), &fs)];
    b
}

#[test]
fn follow_up_marks_each_finding_and_states_the_verdict() {
    use kaopei::report::followup::{self, Status};
    let card = card();
    let a = sample_run();
    let b = follow_up_run(&a);
    let fu = followup::compare(&card, &a, &b, "TI001").unwrap();
    let status = |c: &str| fu.items.iter().find(|i| i.check == c).unwrap().status;
    assert_eq!(status("training.hours_short"), Status::Persisting);
    assert_eq!(status("cert.number_mismatch"), Status::New);
    assert_eq!(status("exam.pass_rate"), Status::Resolved);
    // The new certificate finding (0.4) is above max_remaining_severity (0.3).
    assert!(!fu.pass);
    let dir = tempfile::tempdir().unwrap();
    let path = followup::write(dir.path(), &fu, &a, &b, &card, &HtmlOptions::default()).unwrap();
    assert!(path.ends_with("followup/TI001_run7_run9.html"), "{}", path.display());
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(page.contains("整改不合格") && !page.contains("整改合格<"));
    assert_eq!(full_ids(&page), Vec::<String>::new());
    assert_eq!(
        headings(&page),
        [
            "h1 郑州安达职业培训学校",
            "h2 复查结论",
            "h2 复查所比较的两次运行",
            "h2 变化",
            "h2 复查证据",
            "h3 1. 证书编号与身份证号不符 cert.number_mismatch",
            "h3 2. 学时不足 training.hours_short",
            "h3 3. 回访学员否认参训 callback.denied_attendance",
            "h3 4. 录像画面静止 cctv.frozen",
            "h3 5. 通过率异常偏高 exam.pass_rate",
            "h3 6. 成绩在合格线堆积 exam.score_heaping",
            "h3 7. 集中交卷 exam.submit_cluster",
            "h3 8. no.such_check （评分模型中未列出的检查项） no.such_check",
            "h2 整改清单",
        ]
    );
    if let Ok(keep) = std::env::var("KAOPEI_KEEP_SCREENSHOTS") {
        std::fs::create_dir_all(Path::new(&keep).join("followup")).unwrap();
        std::fs::copy(&path, Path::new(&keep).join("followup/TI001.html")).unwrap();
    }
    // Resolving the new finding and weakening the rest passes.
    let mut b2 = b.clone();
    b2.findings.truncate(1);
    let fs: Vec<&Finding> = b2.findings.iter().collect();
    let s = &b.scores[0];
    b2.scores = vec![score_institution(&card, "TI001", &s.name, &s.region, &s.kind, s.audited.clone(), &fs)];
    let fu = followup::compare(&card, &a, &b2, "TI001").unwrap();
    assert!(fu.pass, "{:?}", fu.reasons);
}
