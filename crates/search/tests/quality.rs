//! Search quality on a small fixed corpus in both languages: for each query,
//! the document a user expects first. The index here is the one the server
//! runs, in memory.

use carecenter_search::{Doc, Kind, SearchIndex, SearchQuery};

const T: i64 = 1;

fn corpus() -> Vec<Doc> {
    let d = |kind, id, case: Option<i64>, title: &str, body: &str| Doc {
        tenant: T,
        kind,
        id,
        case_id: case,
        public: kind == Kind::Article && id % 2 == 1,
        title: title.into(),
        body: body.into(),
    };
    vec![
        d(
            Kind::Article,
            1,
            None,
            "保养周期",
            "新车首次保养在 5000 公里或 6 个月，以先到者为准；此后每 10000 公里保养一次。",
        ),
        d(
            Kind::Article,
            2,
            None,
            "轮胎更换标准",
            "轮胎花纹深度低于 1.6 毫米时必须更换，建议四条同时更换。",
        ),
        d(
            Kind::Article,
            3,
            None,
            "Brake hose recall 2026",
            "Front brake hoses on 2024 LX models are being recalled and replaced free of charge at any service station.",
        ),
        d(
            Kind::Article,
            4,
            None,
            "Maintenance intervals",
            "The first maintenance is due at 5,000 km; later services every 10,000 km.",
        ),
        d(
            Kind::Article,
            5,
            None,
            "投诉处理流程",
            "客户投诉须在 24 小时内首次回复，48 小时内给出处理方案。安抚话术见附件。",
        ),
        d(
            Kind::Article,
            6,
            None,
            "春季保养优惠",
            "三月期间到店保养，机油滤芯免费更换。活动已结束。",
        ),
        d(
            Kind::Case,
            101,
            Some(101),
            "2026-000123 刹车异响",
            "客户反映车辆刹车时有异响，车架号 LSVAM4187C2184841，已预约检查。",
        ),
        d(
            Kind::Case,
            102,
            Some(102),
            "2026-000124 发票抬头错误",
            "客户要求更正购车发票抬头。",
        ),
        d(
            Kind::Interaction,
            1001,
            Some(102),
            "2026-000124 发票抬头错误",
            "Dear customer, we have reissued your invoice with the corrected company name.",
        ),
        d(
            Kind::Interaction,
            1002,
            Some(101),
            "2026-000123 刹车异响",
            "服务站检查后确认为刹车片磨损，已免费更换。",
        ),
        d(
            Kind::Customer,
            501,
            None,
            "王伟",
            "13800138000 wang.wei@example.cn LSVAM4187C2184841 星途 LX",
        ),
        d(
            Kind::Customer,
            502,
            None,
            "Li Na",
            "13900139000 li.na@example.com",
        ),
    ]
}

fn first(ix: &SearchIndex, text: &str) -> Option<(Kind, i64)> {
    let q = SearchQuery {
        tenant: T,
        text: text.into(),
        kinds: Kind::ALL.to_vec(),
        public_only: false,
        not_case: None,
        limit: 5,
    };
    ix.search(&q).unwrap().first().map(|h| (h.kind, h.id))
}

#[test]
fn the_expected_document_comes_first() {
    let ix = SearchIndex::in_memory().unwrap();
    ix.put(&corpus(), &[], "p1").unwrap();
    let table: &[(&str, Kind, i64)] = &[
        ("保养 周期", Kind::Article, 1),
        ("首次保养多少公里", Kind::Article, 1),
        ("轮胎 磨损 更换", Kind::Article, 2),
        ("brake recall", Kind::Article, 3),
        ("recalled brakes", Kind::Article, 3),
        ("maintenance interval", Kind::Article, 4),
        ("投诉 回复 时限", Kind::Article, 5),
        // A VIN finds its owner first; the case about the car comes next.
        ("LSVAM4187C2184841", Kind::Customer, 501),
        ("2026-000124", Kind::Case, 102),
        ("000123", Kind::Case, 101),
        ("13800138000", Kind::Customer, 501),
        ("reissued invoice", Kind::Interaction, 1001),
        ("刹车片", Kind::Interaction, 1002),
    ];
    for (query, kind, id) in table {
        assert_eq!(first(&ix, query), Some((*kind, *id)), "{query}");
    }
    assert_eq!(first(&ix, "火星探测"), None, "nothing shares a word");
    let vin = SearchQuery {
        tenant: T,
        text: "lsvam4187c2184841".into(),
        kinds: Kind::ALL.to_vec(),
        public_only: false,
        not_case: None,
        limit: 5,
    };
    let found: Vec<(Kind, i64)> = ix
        .search(&vin)
        .unwrap()
        .iter()
        .map(|h| (h.kind, h.id))
        .collect();
    assert_eq!(
        found,
        [(Kind::Customer, 501), (Kind::Case, 101)],
        "any writing of a VIN"
    );
}

#[test]
fn tenants_kinds_public_and_the_case_itself_are_respected() {
    let ix = SearchIndex::in_memory().unwrap();
    let mut docs = corpus();
    docs.push(Doc {
        tenant: 2,
        ..docs[0].clone()
    });
    ix.put(&docs, &[], "p1").unwrap();
    let q = |tenant, kinds: Vec<Kind>, public_only, not_case| SearchQuery {
        tenant,
        text: "保养 刹车 brake".into(),
        kinds,
        public_only,
        not_case,
        limit: 50,
    };
    let hits = ix.search(&q(T, vec![Kind::Article], false, None)).unwrap();
    assert!(hits.iter().all(|h| h.kind == Kind::Article) && hits.len() >= 3);
    let public = ix.search(&q(T, vec![Kind::Article], true, None)).unwrap();
    assert!(public.iter().all(|h| h.id % 2 == 1), "{public:?}");
    let other = ix.search(&q(2, Kind::ALL.to_vec(), false, None)).unwrap();
    assert_eq!(
        other.iter().map(|h| h.id).collect::<Vec<_>>(),
        [1],
        "tenant 2 has one document"
    );
    let similar = ix
        .search(&q(T, vec![Kind::Case, Kind::Interaction], false, Some(101)))
        .unwrap();
    assert!(
        similar.iter().all(|h| h.case_id != Some(101)),
        "{similar:?}"
    );
    assert!(
        ix.search(&q(T, Vec::new(), false, None))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn snippets_mark_the_words_and_escape_the_rest() {
    let ix = SearchIndex::in_memory().unwrap();
    ix.put(
        &[Doc {
            tenant: T,
            kind: Kind::Interaction,
            id: 9,
            case_id: Some(1),
            public: false,
            title: "note".into(),
            body: "<script>x</script> the brake pads were replaced".into(),
        }],
        &[],
        "p",
    )
    .unwrap();
    let q = SearchQuery {
        tenant: T,
        text: "brakes".into(),
        kinds: vec![Kind::Interaction],
        public_only: false,
        not_case: None,
        limit: 1,
    };
    let hit = &ix.search(&q).unwrap()[0];
    assert!(hit.snippet.contains("<b>brake</b>"), "{}", hit.snippet);
    assert!(!hit.snippet.contains("<script>"), "{}", hit.snippet);
}

/// Words inside words overlap (a long Chinese word and the shorter ones in
/// it, `LX-5` and its parts): the marks merge rather than break the passage.
#[test]
fn overlapping_words_mark_once() {
    let ix = SearchIndex::in_memory().unwrap();
    let body = "中华人民共和国 LX-5 保养";
    ix.put(
        &[Doc {
            tenant: T,
            kind: Kind::Article,
            id: 1,
            case_id: None,
            public: false,
            title: "t".into(),
            body: body.into(),
        }],
        &[],
        "p",
    )
    .unwrap();
    for text in ["中华人民共和国 中华 人民", "LX-5 lx 5"] {
        let q = SearchQuery {
            tenant: T,
            text: text.into(),
            kinds: vec![Kind::Article],
            public_only: false,
            not_case: None,
            limit: 1,
        };
        let hit = &ix.search(&q).unwrap()[0];
        assert_eq!(
            hit.snippet.matches("<b>").count(),
            1,
            "{text}: {}",
            hit.snippet
        );
        assert_eq!(hit.snippet.replace("<b>", "").replace("</b>", ""), body);
    }
}

#[test]
fn a_document_put_again_replaces_itself_and_progress_is_kept() {
    let dir = std::env::temp_dir().join(format!("cc-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let ix = SearchIndex::open(&dir).unwrap();
        assert_eq!(ix.progress().unwrap(), "");
        let mut d = corpus()[0].clone();
        ix.put(std::slice::from_ref(&d), &[], "p1").unwrap();
        d.title = "保养间隔".into();
        ix.put(&[d.clone()], &[], "p2").unwrap();
        assert_eq!(ix.len(), 1);
        ix.put(&[], &[(d.tenant, d.kind, d.id)], "p3").unwrap();
        assert_eq!(ix.len(), 0, "taken out");
        ix.put(&[d], &[], "p4").unwrap();
    }
    let ix = SearchIndex::open(&dir).unwrap();
    assert_eq!(
        (ix.len(), ix.progress().unwrap().as_str()),
        (1, "p4"),
        "kept across a restart"
    );
    ix.clear().unwrap();
    assert_eq!((ix.len(), ix.progress().unwrap().as_str()), (0, ""));
    let _ = std::fs::remove_dir_all(&dir);
}
