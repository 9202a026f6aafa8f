//! Spam-stage tests on invented pages (tests/fixtures/spam), in the encodings real
//! county sites use.

use super::*;
use crate::extract::clean::{clean, CleanRules};

fn spam_rules() -> SpamRules {
    SpamRules::compile(&[RuleSource {
        name: "spam.toml".into(),
        text: include_str!("../../../config/rules/spam.toml").into(),
    }])
    .expect("built-in spam rules compile")
}

fn clean_rules() -> CleanRules {
    CleanRules::compile(&[RuleSource {
        name: "clean.toml".into(),
        text: include_str!("../../../config/rules/clean.toml").into(),
    }])
    .expect("built-in clean rules compile")
}

fn decode(bytes: &[u8], label: &str) -> String {
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).expect("known label");
    encoding.decode(bytes).0.into_owned()
}

const COUNTY_GBK: &[u8] = include_bytes!("../../../tests/fixtures/spam/county-article.gbk.html");
const TRADITIONAL_BIG5: &[u8] =
    include_bytes!("../../../tests/fixtures/spam/traditional-page.big5.html");
const LOTTERY_NEWS: &str = include_str!("../../../tests/fixtures/spam/lottery-policy-news.html");
const PARASITE: &str = include_str!("../../../tests/fixtures/spam/parasite-page.html");

struct Run {
    doc: Html,
    report: SpamReport,
}

fn run(source: &str, url: &str) -> Run {
    let rules = spam_rules();
    let mut doc = Html::parse_document(source);
    let base = Url::parse(url).ok();
    let report = remove_spam(&mut doc, source, base.as_ref(), &rules);
    Run { doc, report }
}

fn text_of(doc: &Html) -> String {
    compact_text(doc.tree.root(), usize::MAX)
}

fn reasons(report: &SpamReport) -> Vec<&str> {
    report.removals.iter().map(|r| r.reason.as_str()).collect()
}

fn removal<'a>(report: &'a SpamReport, reason: &str) -> &'a SpamRemoval {
    report
        .removals
        .iter()
        .find(|r| r.reason == reason)
        .unwrap_or_else(|| panic!("no {reason} removal in {:#?}", report.removals))
}

#[test]
fn county_page_every_structural_signal() {
    let source = decode(COUNTY_GBK, "gbk");
    let Run { doc, report } = run(&source, "http://www.qinghe.gov.cn/zwgk/zwdt/2.html");
    let text = text_of(&doc);

    let hidden = removal(&report, "lexicon_hidden_block");
    assert!(hidden.text.contains("安徽快3计划"), "{hidden:?}");
    assert!(hidden.detail.contains("off-screen"), "{hidden:?}");

    let marquee = removal(&report, "marquee");
    assert!(marquee.text.contains("北京赛车pk10"), "{marquee:?}");

    // The written text is decoded from \u escapes before matching and reporting.
    let written = removal(&report, "document_write");
    assert!(written.text.contains("百家乐真人娱乐城"), "{written:?}");
    assert!(
        written.detail.contains("www.bet-win.example"),
        "{written:?}"
    );

    let tail = removal(&report, "after_html_end");
    assert_eq!(tail.text, "安徽快3计划在线");
    assert!(!tail.detail.contains("not found"), "{tail:?}");

    // A class hidden by the page's own <style> rule.
    assert!(
        report
            .removals
            .iter()
            .any(|r| r.reason == "lexicon_hidden_block" && r.text.contains("葡京娱乐")),
        "{:#?}",
        report.removals
    );

    for gone in ["安徽快3计划", "北京赛车", "葡京娱乐", "安徽快3计划在线"] {
        assert!(!text.contains(gone), "{gone} is still in the page");
    }
    // The article is untouched, including the sentence about 打击坑农害农.
    for kept in [
        "9月11日，清河县召开秋季农业生产工作推进会",
        "严厉打击坑农害农行为",
        "作了交流发言",
    ] {
        assert!(text.contains(kept), "{kept} was removed");
    }
    assert!(report
        .removals
        .iter()
        .all(|r| r.text.chars().count() <= REPORT_MAX_CHARS));
    assert!(!is_spam_page(&report, &PageMeta::default(), &spam_rules()));
}

#[test]
fn county_page_spam_then_clean_leaves_the_article() {
    let source = decode(COUNTY_GBK, "gbk");
    let Run { mut doc, .. } = run(&source, "http://www.qinghe.gov.cn/zwgk/zwdt/2.html");
    let report = clean(&mut doc, &clean_rules());
    let text = text_of(&doc);
    for gone in [
        "请输入关键字",
        "办事服务",
        "当前位置",
        "字号",
        "收藏",
        "关闭窗口",
        "分享到",
        "上一篇",
        "网站地图",
        "主办",
        "ICP备",
        "政府网站标识码",
        "技术支持",
        "_hmt",
    ] {
        assert!(
            !text.contains(gone),
            "{gone} survived cleaning: {:#?}",
            report.samples
        );
    }
    for kept in [
        "清河县召开秋季农业生产工作推进会",
        "确保颗粒归仓",
        "保障农民群众合法权益",
        "作了交流发言",
    ] {
        assert!(
            text.contains(kept),
            "{kept} was cleaned away: {:#?}",
            report.samples
        );
    }
}

#[test]
fn simplified_spam_line_on_traditional_page() {
    let source = decode(TRADITIONAL_BIG5, "big5");
    // Big5 has no 计 or 线: the spam line arrives as character references.
    assert!(source.contains("湖北快3&#35745;划在&#32447;"));
    let Run { doc, report } = run(&source, "http://www.nanshan.gov.cn/xw/1.html");
    let mismatch = removal(&report, "script_mismatch");
    assert_eq!(mismatch.text, "湖北快3计划在线");
    assert!(
        mismatch.detail.contains("simplified-script line"),
        "{mismatch:?}"
    );
    let text = text_of(&doc);
    assert!(!text.contains("湖北快3"));
    // A simplified caption without any term is an editing slip, not spam.
    assert!(text.contains("图为游客在茶园采茶"));
    assert!(text.contains("讓更多群眾共享發展成果"));
    assert_eq!(report.removals.len(), 1, "{:#?}", report.removals);
}

#[test]
fn the_seed_pattern_after_html_end_on_a_traditional_page() {
    // The Ya'an seed: a simplified 快3 line after </html> on a traditional page.
    let source = "<html><body><p>雅安市扶貧工作形成全維度、多層次、主體化格局，這是記者從市扶貧開發局獲悉的。為了抑制返貧風險、實現高質量穩定脫貧，我市按照收入標準對已脫貧人口進行分類監測。</p>\
                  <div>政府網站標識碼5118000022</div></body></html>\n安徽快3计划在线\n";
    let Run { doc, report } = run(source, "http://www.yaan.gov.cn/x.html");
    let tail = removal(&report, "after_html_end");
    assert_eq!(tail.text, "安徽快3计划在线");
    assert!(!text_of(&doc).contains("安徽快3"));
    assert!(text_of(&doc).contains("政府網站標識碼5118000022"));
}

#[test]
fn tail_merged_into_the_last_text_node_is_cut_exactly() {
    let source = "<html><body><div>正文内容</div>页面底部说明</body></html>时时彩计划";
    let Run { doc, report } = run(source, "http://www.example.gov.cn/");
    assert_eq!(reasons(&report), ["after_html_end"]);
    let text = text_of(&doc);
    assert!(text.ends_with("页面底部说明"), "{text}");
}

#[test]
fn lottery_policy_news_loses_nothing() {
    let Run { doc, report } = run(LOTTERY_NEWS, "http://mzt.dongjiang.gov.cn/flcp/1.html");
    assert!(report.removals.is_empty(), "{:#?}", report.removals);
    assert!(report.page.title_terms.is_empty());
    assert!(!is_spam_page(&report, &PageMeta::default(), &spam_rules()));
    let text = text_of(&doc);
    for kept in [
        "严厉打击非法时时彩网络赌博",
        "福利彩票公益金使用情况公告",
        "棋牌室管理",
        "时时彩、百家乐等网络赌博活动",
        "中国福利彩票快3游戏规则解读",
    ] {
        assert!(text.contains(kept), "{kept} was removed");
    }
}

#[test]
fn parasite_page_is_a_spam_page() {
    let Run { report, .. } = run(PARASITE, "http://www.lvling-tea.example/");
    // Title and keywords are written as character references; the parser decodes them.
    assert_eq!(report.page.title.as_deref(), Some("北京赛车pk10开奖直播"));
    assert!(
        report.page.title_terms.iter().any(|t| t == "北京赛车"),
        "{:?}",
        report.page
    );
    assert!(!report.page.meta_terms.is_empty());
    assert!(report.page.spam_headings >= 4, "{:?}", report.page);
    assert!(is_spam_page(&report, &PageMeta::default(), &spam_rules()));
}

#[test]
fn meta_fields_alone_can_tip_the_verdict() {
    // A page whose DOM the scan could not judge, but whose metadata (from the meta stage)
    // is promotion, with spam headings.
    let report = SpamReport {
        removals: Vec::new(),
        page: PageSignals {
            headings: 3,
            spam_headings: 3,
            ..PageSignals::default()
        },
    };
    let meta = PageMeta {
        title: Some("澳门百家乐真人娱乐城官网".into()),
        ..PageMeta::default()
    };
    assert!(is_spam_page(&report, &meta, &spam_rules()));
    let news = PageMeta {
        title: Some("警方破获特大百家乐网络赌博案".into()),
        ..PageMeta::default()
    };
    let plain = SpamReport::default();
    assert!(!is_spam_page(&plain, &news, &spam_rules()));
}

#[test]
fn long_paragraph_with_terms_is_never_cut() {
    let para = "近年来，部分不法分子利用境外网站开设百家乐、时时彩等网络赌博平台，诱骗群众参与，\
                社区内的棋牌室管理也存在薄弱环节。县公安局提醒广大群众，切勿轻信所谓开户送彩金的宣传。";
    let source =
        format!("<html><body><div class='content'><p>{para}</p><p>{para}</p></div></body></html>");
    let Run { doc, report } = run(&source, "http://www.example.gov.cn/");
    assert!(report.removals.is_empty(), "{:#?}", report.removals);
    assert_eq!(text_of(&doc).matches("切勿轻信").count(), 2);
}

#[test]
fn visible_short_spam_link_and_foreign_cluster() {
    let source = "<html><body>\
        <div class='content'><p>县政府召开常务会议，研究部署今年秋冬季农业生产和防汛抗旱工作，会议强调要压实各级责任。</p></div>\
        <div class='links'><a href='http://a.example/'>重庆时时彩开奖</a> <a href='http://b.example/'>彩票走势图</a> <a href='http://c.example/'>双色球开奖结果</a> <a href='http://d.example/'>足彩推荐</a></div>\
        <p><a href='http://e.example/'>真人娱乐城</a></p>\
        <div class='friend'><a href='http://www.gov.cn/'>中国政府网</a> <a href='http://www.hebei.gov.cn/'>河北省人民政府</a> <a href='http://www.xinhuanet.com/'>新华网</a></div>\
        </body></html>";
    let Run { doc, report } = run(source, "http://www.example.gov.cn/a.html");
    assert_eq!(
        reasons(&report),
        ["foreign_link_cluster", "lexicon_short_block"],
        "{:#?}",
        report.removals
    );
    let text = text_of(&doc);
    assert!(
        text.contains("中国政府网"),
        "friendly links to other government sites stay"
    );
    assert!(!text.contains("真人娱乐城"));
}

#[test]
fn hidden_wrapper_opened_by_document_write() {
    let source = "<html><body><p>正文第一段，内容较长，说明会议的时间、地点和参加人员，以及会议的主要议程。</p>\
        <script>document.write(\"<div style='display:none'>\");</script>\
        <a href='http://x.example/'>幸运飞艇</a><a href='http://y.example/'>极速赛车</a>\
        <script>document.write(\"</div>\");</script>\
        <p>正文第二段。</p></body></html>";
    let Run { doc, report } = run(source, "http://www.example.gov.cn/a.html");
    assert!(
        report
            .removals
            .iter()
            .any(|r| r.reason == "lexicon_hidden_block" && r.detail.contains("document.write")),
        "{:#?}",
        report.removals
    );
    assert!(!text_of(&doc).contains("幸运飞艇"));
}

#[test]
fn unescape_and_entities_are_decoded() {
    assert_eq!(percent_unescape("%u65F6%u65F6%u5F69"), "时时彩");
    assert_eq!(decode_entities("&#24425;&#x7968;&amp;x"), "彩票&x");
    assert_eq!(
        js_string_arguments("'a' + \"\\u5F69\" + unescape('%u7968'));"),
        "a彩票"
    );
    assert_eq!(site_key("www.qinghe.gov.cn"), "qinghe.gov.cn");
    assert_eq!(site_key("caipiao.163.com"), "163.com");
}

#[test]
fn rules_reject_bad_tiers_and_pairs() {
    let bad = |text: &str| {
        SpamRules::compile(&[RuleSource {
            name: "user spam.toml".into(),
            text: text.into(),
        }])
        .is_err()
    };
    assert!(bad(
        "[[terms]]\nname = \"x\"\ntier = \"medium\"\nwords = [\"a\"]\n"
    ));
    assert!(bad("[script]\npairs = \"们們 这\"\n"));
    assert!(!bad(
        "[[terms]]\nname = \"x\"\ntier = \"strong\"\nwords = [\"abc\"]\n"
    ));
}

#[test]
fn deep_nesting_does_not_overflow() {
    let depth = 20_000;
    let mut html = String::from("<html><body>");
    for _ in 0..depth {
        html.push_str("<div>");
    }
    html.push_str(
        "<span style='display:none'><a href='http://x.example/'>时时彩计划</a></span>正文",
    );
    let Run { doc, report } = run(&html, "http://www.example.gov.cn/");
    assert_eq!(reasons(&report), ["lexicon_hidden_block"]);
    assert_eq!(text_of(&doc), "正文");
}

#[test]
fn noscript_links_are_spam_when_promotional() {
    let source = "<html><body><p>正文内容，县政府召开常务会议研究部署秋冬季农业生产工作。</p>\
        <noscript><a href='http://x.example/'>北京赛车pk10</a></noscript>\
        <noscript>您的浏览器不支持脚本，请启用脚本后访问。</noscript></body></html>";
    let Run { report, .. } = run(source, "http://www.example.gov.cn/");
    assert_eq!(reasons(&report), ["lexicon_hidden_block"]);
    assert!(report.removals[0].detail.contains("noscript"));
}

#[test]
fn one_spam_heading_does_not_make_a_spam_page() {
    // Hong Kong news about Mark Six results: title, description and h1 name 六合彩.
    let source = "<html><head><title>六合彩頭獎三注中 每注派二千萬</title>\
        <meta name='description' content='六合彩昨晚攪珠，頭獎由三注均分。'></head><body>\
        <h1>六合彩頭獎三注中 每注派二千萬</h1><p>香港賽馬會公布，昨晚六合彩攪珠結果揭曉，頭獎由三注中獎彩票均分，每注可得約二千萬元。</p>\
        <h2>下期金多寶</h2></body></html>";
    let Run { report, .. } = run(source, "https://news.example.hk/a.html");
    assert!(
        !is_spam_page(&report, &PageMeta::default(), &spam_rules()),
        "{report:#?}"
    );
}

#[test]
fn doorway_page_with_stuffed_prose_is_a_spam_page() {
    let para = "北京赛车pk10开奖直播为您提供北京赛车pk10开奖结果、时时彩计划、幸运飞艇走势，\
                开户送彩金，信誉平台，提款秒到，北京赛车pk10官方网站欢迎您。";
    let source = format!(
        "<html><head><title>北京赛车pk10开奖直播</title></head><body><h1>北京赛车pk10开奖直播</h1>\
         <p>{para}</p><p>{para}</p></body></html>"
    );
    let Run { report, .. } = run(&source, "http://www.example.gov.cn/news/pk10.html");
    assert!(report.page.body_strong >= 6, "{:?}", report.page);
    assert!(is_spam_page(&report, &PageMeta::default(), &spam_rules()));
}

#[test]
fn short_lines_innocent_and_promotional() {
    let rules = spam_rules();
    let doc = Html::parse_document("<html><body></body></html>");
    let scan = Scan::new(
        &doc,
        Url::parse("http://www.example.gov.cn/").ok().as_ref(),
        &rules,
    );
    for innocent in [
        "卫生间返水问题如何处理",
        "老年人地滚球比赛圆满结束",
        "社区棋牌室管理规定",
        "工程快三年了还没完工",
        "竞彩足球投注指南",
        "互联网投资理财风险提示",
        "福利彩票公益金使用公告",
        "体育彩票投注站招募",
        "严厉打击网络赌博百家乐",
        "澳门博彩业收入增长",
        "设立博士后工作站",
        "中国福利彩票快3游戏规则",
    ] {
        assert!(
            scan.short_block_verdict(&normalize(innocent), false)
                .is_none(),
            "{innocent} judged spam"
        );
    }
    for promotion in [
        "安徽快3计划在线",
        "北京赛车pk10开奖直播",
        "澳门百家乐真人娱乐",
        "开户送彩金",
        "bet365体育",
        "ＰＫ１０计划",
        "时时彩平台",
    ] {
        assert!(
            scan.short_block_verdict(&normalize(promotion), false)
                .is_some(),
            "{promotion} missed"
        );
    }
}

#[test]
fn document_write_through_a_variable_or_char_codes() {
    let source = "<html><body><p>正文内容，县政府召开常务会议研究部署秋冬季农业生产工作。</p>\
        <script>var s = '<a href=\"http://x.example/\">' + unescape('%u5317%u4EAC%u8D5B%u8F66') + '</a>'; document.write(s);</script>\
        <script>document.write(String.fromCharCode(26102,26102,24425));</script>\
        <script>document.write('<span>今天是' + new Date().getFullYear() + '年</span>');</script>\
        </body></html>";
    let Run { report, .. } = run(source, "http://www.example.gov.cn/");
    assert_eq!(
        reasons(&report),
        ["document_write", "document_write"],
        "{:#?}",
        report.removals
    );
    assert!(report.removals[0].text.contains("北京赛车"));
    assert!(report.removals[1].text.contains("时时彩"));
}

#[test]
fn odd_inputs_do_not_panic() {
    let inputs = [
        "",
        "</html>",
        "</HTML >x",
        "</html",
        "<html></html>&#",
        "<html></html>&#99999999999;&#x110000;&amp",
        "<script>document.write(</script>",
        "<script>document.write('\\u{zz}\\x4</script>",
        "<script>document.write(unescape('%u12'))</script>",
        "<script>document.write(String.fromCharCode(99999999999))</script>",
        "<style>.a{display:none</style><div class='a'>时时彩</div>",
        "<style>{}{}#{display:none} .{visibility:hidden}</style><p>x</p>",
        "<marquee></marquee><div hidden></div>",
        "<a href='http://[::1'>北京赛车</a><a href=''>快3</a><a>时时彩</a>",
        "<body>\u{0}\u{6}\u{feff}时时彩</body></html>时时彩",
        "<p>快</p></html>３計劃",
    ];
    let rules = spam_rules();
    let clean_rules = clean_rules();
    for input in inputs {
        let mut doc = Html::parse_document(input);
        let report = remove_spam(&mut doc, input, None, &rules);
        let _ = is_spam_page(&report, &PageMeta::default(), &rules);
        let _ = clean(&mut doc, &clean_rules);
    }
}

#[test]
fn banner_image_links_are_judged_by_alt_text() {
    let source = "<html><body><p>正文内容，县政府召开常务会议研究部署秋冬季农业生产工作。</p>\
        <a href='http://casino.example/'><img src='/b.gif' alt='澳门新葡京娱乐城'></a>\
        <a href='http://www.gov.cn/'><img src='/gov.gif' alt='中国政府网'></a>\
        <a href='/local.html'><img src='/x.gif' alt='百家乐'></a></body></html>";
    let Run { report, .. } = run(source, "http://www.example.gov.cn/");
    assert_eq!(
        reasons(&report),
        ["lexicon_short_block"],
        "{:#?}",
        report.removals
    );
    assert!(report.removals[0].text.contains("新葡京"));
}

#[test]
fn split_at_byte_cuts_like_str_split() {
    for text in ["", ",", "a", "a,b", ",a,,b,", ".x, #y,div.z", "é,字,"] {
        let ours: Vec<&str> = split_at_byte(text, b',').collect();
        let std: Vec<&str> = text.split(',').collect();
        assert_eq!(ours, std, "{text:?}");
    }
}

/// What `gather_text` computes, one character at a time (the definition its byte-level
/// runs must keep): (page text, characters, prose characters, page count, body end).
fn gather_text_reference(
    rules: &SpamRules,
    text: &str,
    counted_before: usize,
) -> (String, u32, u32, (usize, usize, usize), Option<usize>) {
    let mut out = String::new();
    let (mut chars, mut stops, mut commas) = (0u32, 0u32, 0u32);
    let (mut counted, mut simplified, mut traditional) = (counted_before, 0, 0);
    let mut body_end = None;
    for c in text.chars() {
        if is_blank(c) {
            continue;
        }
        match c {
            '。' | '！' | '？' | '；' => stops += 1,
            '，' | '、' | '.' | '!' | '?' | ';' | ',' => commas += 1,
            _ => {}
        }
        match c {
            '\u{ff01}'..='\u{ff5e}' => out.push(char::from_u32(c as u32 - 0xfee0).unwrap_or(c)),
            _ => out.push(c),
        }
        if counted < SCRIPT_SAMPLE_CHARS {
            match rules.scripts.get(c as u32) {
                SIMPLIFIED => simplified += 1,
                TRADITIONAL => traditional += 1,
                _ => {}
            }
        }
        chars += 1;
        counted += 1;
        if counted == BODY_TEXT_CHARS {
            body_end = Some(out.len());
        }
    }
    let prose = chars >= PROSE_MIN_CHARS && (stops > 0 || commas >= 2);
    let prose = if prose { chars } else { 0 };
    (
        out,
        chars,
        prose,
        (counted, simplified, traditional),
        body_end,
    )
}

#[test]
fn gather_text_matches_the_per_character_reference() {
    let rules = spam_rules();
    let doc = Html::parse_document("<html><body></body></html>");
    let scan = Scan::new(&doc, None, &rules);
    // Characters of both scripts, from the table itself.
    let scripted: Vec<char> = (0x3000u32..0xa000)
        .filter(|&code| rules.scripts.get(code) != 0)
        .step_by(97)
        .filter_map(char::from_u32)
        .chain("国际会议广东發展開會學習".chars())
        .collect();
    let palette: Vec<char> = "aZ09.,;!?-:/%()[]{}#@~ \t\n\r　\u{a0}\u{200b}\u{feff}，。、；！？：（）“”《》ＡＺａ０９～　…·\u{3001}\u{2002}é😀"
        .chars()
        .chain(scripted)
        .collect();
    let mut rng = fastrand::Rng::with_seed(6);
    for round in 0..4000 {
        let len = rng.usize(0..60);
        let text: String = (0..len)
            .map(|_| palette[rng.usize(0..palette.len())])
            .collect();
        // Start at the page's counting limits too (script sample, body text).
        let counted_before = match round % 4 {
            0 => 0,
            1 => SCRIPT_SAMPLE_CHARS - rng.usize(0..20),
            2 => BODY_TEXT_CHARS - rng.usize(0..20),
            _ => BODY_TEXT_CHARS + 3,
        };
        let mut flat = Flat::default();
        let mut count = PageCount {
            chars: counted_before,
            ..PageCount::default()
        };
        let (chars, prose) = scan.gather_text(&text, &mut flat, &mut count);
        let got = (
            flat.text,
            chars,
            prose,
            (count.chars, count.simplified, count.traditional),
            flat.body_text_end,
        );
        assert_eq!(
            got,
            gather_text_reference(&rules, &text, counted_before),
            "{text:?} from {counted_before}"
        );
    }
}

/// `plain_site_key` as it was written first (with `rmatch_indices`).
fn plain_site_key_reference(host: &str) -> &str {
    let mut dots = host.rmatch_indices('.').map(|(i, _)| i);
    let (last_dot, second_dot) = (dots.next(), dots.next());
    let Some(last_dot) = last_dot else {
        return host;
    };
    let tld = &host[last_dot + 1..];
    let sld = &host[second_dot.map_or(0, |d| d + 1)..last_dot];
    let keep_three = tld.len() == 2 && SECOND_LEVEL.iter().any(|l| sld.eq_ignore_ascii_case(l));
    let start = if keep_three { dots.next() } else { second_dot };
    start.map_or(host, |d| &host[d + 1..])
}

#[test]
fn plain_site_key_matches_the_reference() {
    let labels = [
        "", "www", "a", "gov", "GOV", "com", "cn", "uk", "x-y", "co", "idv", "tw",
    ];
    let mut rng = fastrand::Rng::with_seed(6);
    for _ in 0..5000 {
        let host: Vec<&str> = (0..rng.usize(1..6))
            .map(|_| labels[rng.usize(0..labels.len())])
            .collect();
        let host = host.join(".");
        assert_eq!(
            plain_site_key(&host),
            plain_site_key_reference(&host),
            "{host:?}"
        );
    }
}

#[test]
fn style_rules_for_names_the_body_lacks_change_nothing() {
    let rules = spam_rules();
    let source = "<html><head><style>.gone{display:none} #Away, .absent {display:none}\
                  .kept{color:red} #never{visibility:hidden} div.Hide{display:none}</style>\
                  </head><body><p class='x GONE'>一</p><p id='away'>二</p>\
                  <p class='hide'>三</p><p class='kept'>四</p></body></html>";
    let doc = Html::parse_document(source);
    let scan = Scan::new(&doc, None, &rules);
    // Names on the page are read; `absent` and `never` are left out.
    let mut classes: Vec<&String> = scan.css_hidden_classes.names.iter().collect();
    classes.sort();
    assert_eq!(classes, ["gone", "hide"]);
    let ids: Vec<&String> = scan.css_hidden_ids.names.iter().collect();
    assert_eq!(ids, ["away"]);
    for (i, m) in scan.flat.nodes.iter().enumerate() {
        if let Some(el) = m.node.value().as_element().filter(|e| e.name() == "p") {
            let hidden = scan
                .hidden_reason_of(m.node, el, scan.flat.may_hold_config_class(i))
                .is_some();
            // Without the filter's answer (every class read) the reason is the same.
            assert_eq!(scan.hidden_reason_of(m.node, el, true).is_some(), hidden);
            let text = scan.flat.slice(scan.flat.span_of(i));
            let expected = matches!(text, "一" | "二" | "三");
            assert_eq!(hidden, expected, "{text:?}");
        }
    }
}

#[test]
fn ascii_selector_names_match_split_and_simple_selector_name() {
    let pieces = [
        ".", "#", "a", "Hide", "div", "x-1", "_", " ", "\t", "\n", "\x0b", ",", ">", "+", "~", ":",
        "[", "]", "*", "\\", "(",
    ];
    let mut rng = fastrand::Rng::with_seed(6);
    for _ in 0..20000 {
        let list: String = (0..rng.usize(0..12))
            .map(|_| pieces[rng.usize(0..pieces.len())])
            .collect();
        let mut ours = Vec::new();
        ascii_selector_names(&list, &mut ours);
        let reference: Vec<(bool, &str)> = split_at_byte(&list, b',')
            .filter_map(simple_selector_name)
            .collect();
        assert_eq!(ours, reference, "{list:?}");
    }
}

/// `ascii_selector_names` as it was before the byte-class table (one `match` per byte).
fn ascii_selector_names_reference<'a>(list: &'a str, names: &mut Vec<(bool, &'a str)>) {
    let bytes = list.as_bytes();
    let mut start = 0;
    while start <= bytes.len() {
        let (mut mark, mut name_end, mut text_end) = (None, None, None);
        let mut space_after_text = false;
        let mut rejected = false;
        let mut i = start;
        while i < bytes.len() {
            match bytes[i] {
                b',' => break,
                b'\t'..=b'\r' | b' ' => space_after_text = text_end.is_some(),
                b'>' | b'+' | b'~' | b':' | b'[' => rejected = true,
                b => {
                    rejected = space_after_text;
                    if b == b'.' || b == b'#' {
                        if mark.is_none() {
                            mark = Some(i);
                        } else if name_end.is_none() {
                            name_end = Some(i);
                        }
                    }
                    text_end = Some(i + 1);
                }
            }
            if rejected {
                break;
            }
            i += 1;
        }
        if rejected {
            i = memchr::memchr(b',', &bytes[i..]).map_or(bytes.len(), |p| i + p);
        } else if let (Some(pos), Some(text_end)) = (mark, text_end) {
            let end = name_end.unwrap_or(text_end);
            if end > pos + 1 {
                names.push((bytes[pos] == b'.', &list[pos + 1..end]));
            }
        }
        start = i + 1;
    }
}

#[test]
fn ascii_selector_names_match_the_previous_byte_loop() {
    let pieces = [
        ".", "#", "a", "Hide", "div", "x-1", "_", " ", "  ", "\t", "\n", "\x0b", "\x0c", "\r", ",",
        ", ", " ,", ">", " > ", "+", "~", ":", "::", "[", "]", "*", "\\", "(", ")", "=", "\"", "'",
        "{", "\x00", "\x1f", "\x7f", ".nav", "#main", " li", "a:hover",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..100_000 {
        let list: String = (0..rng.usize(0..16))
            .map(|_| pieces[rng.usize(0..pieces.len())])
            .collect();
        let mut ours = Vec::new();
        ascii_selector_names(&list, &mut ours);
        let mut reference = Vec::new();
        ascii_selector_names_reference(&list, &mut reference);
        assert_eq!(ours, reference, "{list:?}");
    }
}

#[test]
fn strip_markup_matches_the_regex() {
    let rules = spam_rules();
    let pieces = [
        "<",
        ">",
        "<script",
        "<SCRIPT",
        "<Script>",
        "<scripts",
        "<script_",
        "<script1",
        "<script中",
        "<script>",
        "<script ",
        "</script>",
        "</SCRIPT >",
        "</script\u{3000}>",
        "</script\n>",
        "</script",
        "</scripta>",
        "<style",
        "<STYLE>",
        "</style>",
        "</Style\t>",
        "<stylex",
        "<!--",
        "<!-->",
        "-->",
        "--",
        "<!-",
        "<a href='x'>",
        "</a>",
        "<br/>",
        "a",
        "中文",
        " ",
        "\n",
        "é",
        "_",
        "ſ",
        "<ſcript>",
        "<ſtyle",
        "</ſcript>",
        "</ſtyle >",
        "<scrİpt>",
        "<scrıpt>",
        "</scrİpt>",
        "<\u{212a}",
        "/",
        "&lt;",
        "\u{a0}",
    ];
    let mut rng = fastrand::Rng::with_seed(8);
    let mut fast = 0;
    for _ in 0..100_000 {
        let text: String = (0..rng.usize(0..14))
            .map(|_| pieces[rng.usize(0..pieces.len())])
            .collect();
        let expected = rules.markup.replace_all(&text, " ");
        if let Some(ours) = strip_markup_fast(&text) {
            fast += 1;
            assert_eq!(ours, expected, "{text:?}");
        }
        assert_eq!(rules.strip_markup(&text), expected, "{text:?}");
    }
    // Most texts take the fast path.
    assert!(fast > 50_000, "{fast}");
}

#[test]
fn printable_ascii_matches_the_per_byte_definition() {
    let mut rng = fastrand::Rng::with_seed(9);
    let alphabet: Vec<u8> = (0u8..=255).collect();
    for _ in 0..100_000 {
        let len = rng.usize(0..24);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.u8(..) < 230 {
                    rng.u8(0x21..=0x7e)
                } else {
                    alphabet[rng.usize(0..256)]
                }
            })
            .collect();
        let expected = bytes.iter().all(|&b| (0x21..=0x7f).contains(&b));
        assert_eq!(printable_ascii(&bytes), expected, "{bytes:?}");
    }
}

/// `for_each_token` as it was before the one-name shortcut.
fn for_each_token_reference(value: &str, mut f: impl FnMut(&str) -> bool) {
    for token in value.split_whitespace() {
        if !f(token) {
            return;
        }
    }
}

#[test]
fn for_each_token_cuts_like_split_whitespace() {
    let pieces = [
        "a",
        "Nav",
        "x-1",
        "_",
        " ",
        "\t",
        "\n",
        "\x0b",
        "\x0c",
        "\r",
        "\x00",
        "\x1f",
        "\x7f",
        "中",
        "\u{3000}",
        "\u{a0}",
        "é",
        "longer-class-name",
    ];
    let mut rng = fastrand::Rng::with_seed(10);
    for _ in 0..50_000 {
        let value: String = (0..rng.usize(0..10))
            .map(|_| pieces[rng.usize(0..pieces.len())])
            .collect();
        let stop_after = rng.usize(1..4);
        let mut ours = Vec::new();
        for_each_token(&value, |t| {
            ours.push(t.to_string());
            ours.len() < stop_after
        });
        let mut reference = Vec::new();
        for_each_token_reference(&value, |t| {
            reference.push(t.to_string());
            reference.len() < stop_after
        });
        assert_eq!(ours, reference, "{value:?}");
    }
}

/// `js_strings(code, false)` as it was before `js_literals`: one character at a time.
fn js_strings_reference(code: &str) -> String {
    let mut out = String::new();
    let mut chars = code.chars().peekable();
    let mut scanned = 0usize;
    while let Some(c) = chars.next() {
        scanned += 1;
        if scanned > JS_SCRIPT_SCAN_CHARS {
            break;
        }
        if let '"' | '\'' | '`' = c {
            let quote = c;
            let mut lit = String::new();
            while let Some(c) = chars.next() {
                scanned += 1;
                if c == quote {
                    break;
                }
                if c != '\\' {
                    lit.push(c);
                    continue;
                }
                match chars.next() {
                    Some('n') => lit.push('\n'),
                    Some('t') => lit.push('\t'),
                    Some('x') => {
                        let hex: String = chars.by_ref().take(2).collect();
                        if let Some(ch) =
                            u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            lit.push(ch);
                        }
                    }
                    Some('u') => {
                        let hex: String = if chars.peek() == Some(&'{') {
                            chars.next();
                            chars.by_ref().take_while(|c| *c != '}').collect()
                        } else {
                            chars.by_ref().take(4).collect()
                        };
                        if let Some(ch) =
                            u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            lit.push(ch);
                        }
                    }
                    Some(other) => lit.push(other),
                    None => break,
                }
            }
            out.push_str(&percent_unescape(&lit));
        }
    }
    out
}

#[test]
fn js_literals_match_the_per_character_scan() {
    let pieces = [
        "\"",
        "'",
        "`",
        "\\",
        "\\\\",
        "\\'",
        "\\\"",
        "\\n",
        "\\t",
        "\\x",
        "\\x4",
        "\\x41",
        "\\xZ",
        "\\u",
        "\\u5f69",
        "\\u5F",
        "\\u{",
        "\\u{5f69}",
        "\\u{}",
        "\\u{110000}",
        "}",
        "{",
        "%u5F69",
        "%u5f",
        "%41",
        "%",
        "%%",
        "%zz",
        "(",
        ")",
        ";",
        "\n",
        "a",
        "document",
        ".write(",
        "中",
        "彩",
        "é",
        "😀",
        " ",
        "<a href='x'>",
        "</a>",
    ];
    let mut rng = fastrand::Rng::with_seed(11);
    for _ in 0..100_000 {
        let code: String = (0..rng.usize(0..20))
            .map(|_| pieces[rng.usize(0..pieces.len())])
            .collect();
        assert_eq!(
            js_strings(&code, false),
            js_strings_reference(&code),
            "{code:?}"
        );
    }
    // Past the limit the character scan is kept (and stops where it did).
    let long = "'ab' ".repeat(JS_SCRIPT_SCAN_CHARS / 4);
    assert_eq!(js_strings(&long, false), js_strings_reference(&long));
}

/// `normalize` as it was before the run copying: a character at a time.
fn normalize_reference(text: &str) -> String {
    text.chars()
        .filter(|c| !is_blank(*c))
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

#[test]
fn normalize_matches_the_per_character_definition() {
    let palette: Vec<char> = "aZ09.,;!?-:/ \t\n\r\x0b\x0c\u{85}　\u{a0}\u{200b}\u{200c}\u{200d}\u{2028}\u{2029}\u{feff}\u{fefe}\u{ff00}\u{ff01}\u{ff5e}\u{ff5f}，。、；！？ＡＺａ０９～…·\u{3001}\u{3000}\u{2002}\u{1680}é😀彩票"
        .chars()
        .collect();
    let mut rng = fastrand::Rng::with_seed(12);
    for _ in 0..50_000 {
        let text: String = (0..rng.usize(0..30))
            .map(|_| palette[rng.usize(0..palette.len())])
            .collect();
        assert_eq!(normalize(&text), normalize_reference(&text), "{text:?}");
    }
    // Every character of the planes in use, one at a time.
    for code in (0..0x3_0000u32).chain([0xe_0001, 0x10_fffd]) {
        if let Some(c) = char::from_u32(code) {
            let text = format!("a{c}b");
            assert_eq!(normalize(&text), normalize_reference(&text), "{code:x}");
        }
    }
}

#[test]
fn skip_ascii_blanks_stops_at_the_first_other_byte() {
    let mut rng = fastrand::Rng::with_seed(13);
    let blanks = [b'\t', b'\n', b'\x0b', b'\x0c', b'\r', b' '];
    for round in 0..200_000 {
        let len = rng.usize(0..40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if round % 2 == 0 || rng.u8(..) < 240 {
                    if rng.u8(..) < 250 {
                        blanks[rng.usize(0..blanks.len())]
                    } else {
                        rng.u8(..)
                    }
                } else {
                    rng.u8(..)
                }
            })
            .collect();
        let from = rng.usize(0..=len);
        let expected = (from..len)
            .find(|&i| !matches!(bytes[i], b'\t'..=b'\r' | b' '))
            .unwrap_or(len);
        assert_eq!(
            skip_ascii_blanks(&bytes, from),
            expected,
            "{bytes:?} from {from}"
        );
    }
    // Each byte value once inside a run of blanks.
    for b in 0..=255u8 {
        let mut bytes = vec![b' '; 20];
        bytes[11] = b;
        let expected = if matches!(b, b'\t'..=b'\r' | b' ') {
            20
        } else {
            11
        };
        assert_eq!(skip_ascii_blanks(&bytes, 0), expected, "{b}");
    }
}

#[test]
fn config_class_filter_changes_no_hiding_reason() {
    let rules = spam_rules();
    let tokens = [
        "hide", "HIDDEN", "d-none", "Sr-Only", "dn", "yc", "hidex", "hid", "nav", "d-nonf", "main",
        "中文", "yd", "ya",
    ];
    let blanks = [" ", "  ", "\t", "\n"];
    let mut rng = fastrand::Rng::with_seed(14);
    for round in 0..300 {
        let mut body = String::new();
        for _ in 0..rng.usize(1..12) {
            let class: Vec<String> = (0..rng.usize(0..4))
                .map(|_| {
                    let blank = blanks[rng.usize(0..blanks.len())];
                    format!("{blank}{}", tokens[rng.usize(0..tokens.len())])
                })
                .collect();
            body.push_str(&format!(
                "<div class='{}'><span>文字{round}</span></div>",
                class.concat()
            ));
        }
        // Half of the pages carry a hiding rule of their own.
        let style = if round % 2 == 0 {
            "<style>.nav{display:none}</style>"
        } else {
            ""
        };
        let source = format!("<html><head>{style}</head><body>{body}</body></html>");
        let doc = Html::parse_document(&source);
        let scan = Scan::new(&doc, None, &rules);
        for (i, m) in scan.flat.nodes.iter().enumerate() {
            if let Some(el) = m.node.value().as_element() {
                assert_eq!(
                    scan.hidden_reason_of(m.node, el, scan.flat.may_hold_config_class(i)),
                    scan.hidden_reason_of(m.node, el, true),
                    "{source}"
                );
            }
        }
    }
}
