//! Chinese names for the evidence-table columns the checks emit (the
//! checks name columns by their English field ids; the report shows an
//! inspector these names, with the id kept as a tooltip). `_a`/`_b`
//! suffixes name the two sides of a pair (甲/乙).

/// The Chinese name of column `id`, if known.
pub fn zh(id: &str) -> Option<String> {
    if let Some(n) = base(id) {
        return Some(n.to_string());
    }
    for (suffix, side) in [("_a", "（甲）"), ("_b", "（乙）")] {
        if let Some(stem) = id.strip_suffix(suffix) {
            return base(stem).map(|n| format!("{n}{side}"));
        }
    }
    None
}

fn base(id: &str) -> Option<&'static str> {
    Some(match id {
        "a_from" => "甲起始",
        "a_wall_time" => "甲时刻",
        "at" => "时间",
        "attended" => "是否参训",
        "b_from" => "乙起始",
        "b_wall_time" => "乙时刻",
        "called_at" => "回访时间",
        "candidates" => "考生数",
        "candidates_shifting" => "换座考生数",
        "capacity" => "容量",
        "cert_no" => "证书编号",
        "check_in" => "签到时间",
        "check_out" => "签退时间",
        "claimed" => "声称时间",
        "claimed_end" => "声称结束时间",
        "claimed_start" => "声称开始时间",
        "class_end" => "班级结束日期",
        "class_id" => "班级编号",
        "classes" => "班级数",
        "classroom_hours" => "面授学时",
        "cluster" => "集群",
        "common_items" => "共同题目数",
        "count" => "数量",
        "course_kind" => "课程类型",
        "covered_share" => "覆盖比例",
        "credited_hours" => "计入学时",
        "day" => "日期",
        "days" => "天数",
        "device_id" => "设备编号",
        "end" => "结束时间",
        "end_date" => "结束日期",
        "exam_institution_id" => "考试机构编号",
        "exam_record_id" => "考试记录编号",
        "exam_start" => "考试开始时间",
        "example_record" => "示例记录",
        "expected_identical_wrong" => "预期相同错答数",
        "expected_uniform" => "预期均匀值",
        "expires_on" => "有效期至",
        "face_score" => "人脸比对分",
        "face_verified" => "人脸核验",
        "file" => "文件",
        "first_check_in" => "首次签到",
        "first_exam" => "首次考试",
        "found" => "发现",
        "from_video_time" => "起始录像时刻",
        "from_wall_time" => "起始时刻",
        "hours_recorded" => "记录学时",
        "hours_reported" => "自述学时",
        "identical" => "相同数",
        "identical_wrong" => "相同错答数",
        "institution" => "机构",
        "instructor_id" => "教师编号",
        "issued_on" => "发证日期",
        "last_check_in" => "末次签到",
        "line" => "行号",
        "login_at" => "登录时间",
        "matched_samples" => "匹配样本数",
        "max_deliverable_hours" => "最多可授学时",
        "max_motion" => "最大运动量",
        "mean_distance" => "平均距离",
        "mean_luma" => "平均亮度",
        "minute" => "分钟",
        "minutes" => "分钟数",
        "mode" => "方式",
        "moment" => "时刻",
        "name" => "姓名",
        "note" => "备注",
        "online_hours" => "网络学时",
        "operation" => "作业类别",
        "other_offsets_median" => "其他偏移中位数",
        "overlap_minutes" => "重叠分钟数",
        "p" => "p 值",
        "p_bonferroni" => "Bonferroni 校正 p 值",
        "passed" => "合格人数",
        "peer_share" => "同类机构比例",
        "person" => "人员",
        "person_id" => "身份证号",
        "persons" => "人数",
        "persons_present" => "在场人数",
        "practical_hours" => "实操学时",
        "problem" => "问题",
        "q" => "q 值",
        "q_bh" => "BH 校正 q 值",
        "reached" => "是否接通",
        "reason" => "原因",
        "record" => "记录",
        "record_id" => "记录编号",
        "record_ids" => "记录编号",
        "records" => "记录数",
        "required_hours" => "规定学时",
        "required_offline_hours" => "规定线下学时",
        "robust_z" => "稳健 z 值",
        "room" => "场地",
        "score" => "成绩",
        "seat" => "座位",
        "seats" => "座位数",
        "second" => "秒",
        "seconds" => "秒数",
        "session_id" => "考试场次编号",
        "share_after" => "之后比例",
        "share_before" => "之前比例",
        "shortfall" => "缺口",
        "size" => "规模",
        "start" => "开始时间",
        "start_date" => "开始日期",
        "submit_at" => "交卷时间",
        "to_video_time" => "结束录像时刻",
        "to_wall_time" => "结束时刻",
        "trainee_records" => "学员记录",
        "trainees" => "学员数",
        "training_institution_id" => "培训机构编号",
        "uncovered_minutes" => "未覆盖分钟数",
        "video" => "录像",
        "video_id" => "录像编号",
        "what" => "内容",
        "why" => "原因",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_pair_sides() {
        assert_eq!(super::zh("record_id").as_deref(), Some("记录编号"));
        assert_eq!(super::zh("seat_b").as_deref(), Some("座位（乙）"));
        assert_eq!(super::zh("no_such_column"), None);
    }
}
