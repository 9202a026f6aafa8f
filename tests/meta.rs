//! Metadata stage: date parsing, label lines, bylines, title clean-up, and whole-page
//! fixtures (invented text) under tests/fixtures/meta/.

use gazette::extract::content::{Block, BlockKind, Body};
use gazette::extract::meta::{self, date, people, title, MetaRules, Precision};
use gazette::extract::ExtractOptions;
use gazette::rules::Rules;

fn rules() -> MetaRules {
    Rules::builtin().expect("built-in rules").meta
}

fn tz8() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap()
}

fn parse(text: &str) -> Option<String> {
    let r = rules();
    date::parse_first(text, &r).map(|v| v.to_published(tz8(), "t").value)
}

#[test]
fn editor_in_brackets_stops_at_the_bracket() {
    let r = rules();
    let info = people::read_line("（编辑：小何）返回首页，查看更多", &r);
    assert_eq!(info.editor.as_deref(), Some("小何"));
}

// ------------------------------------------------------------------ dates

#[test]
fn date_formats() {
    assert_eq!(parse("2019-10-23").as_deref(), Some("2019-10-23"));
    assert_eq!(
        parse("发布时间：2019-10-23 09:30").as_deref(),
        Some("2019-10-23T09:30:00+08:00")
    );
    assert_eq!(
        parse("2019年10月23日 09:30").as_deref(),
        Some("2019-10-23T09:30:00+08:00")
    );
    assert_eq!(
        parse("2019年10月23日09时30分").as_deref(),
        Some("2019-10-23T09:30:00+08:00")
    );
    assert_eq!(parse("2019/10/23").as_deref(), Some("2019-10-23"));
    assert_eq!(parse("2019.10.23").as_deref(), Some("2019-10-23"));
    assert_eq!(parse("10/23/2019").as_deref(), Some("2019-10-23"));
    assert_eq!(
        parse("2019-09-26 12:11来源：某某网").as_deref(),
        Some("2019-09-26T12:11:00+08:00")
    );
    assert_eq!(
        parse("2024年5月22日週三 上午8:21").as_deref(),
        Some("2024-05-22T08:21:00+08:00")
    );
    assert_eq!(
        parse("2024年5月20日週一 下午2:05").as_deref(),
        Some("2024-05-20T14:05:00+08:00")
    );
    // An explicit offset is converted to the site timezone.
    assert_eq!(
        parse("2024-05-22T00:21:04.000Z").as_deref(),
        Some("2024-05-22T08:21:04+08:00")
    );
    assert_eq!(parse("2007-08-20-23:59:59").as_deref(), Some("2007-08-20"));
    // Not dates: impossible days, ROC years, ids.
    assert_eq!(parse("2019-02-30"), None);
    assert_eq!(parse("105年3月19日"), None);
    assert_eq!(parse("编号 120191023001"), None);
}

#[test]
fn date_precision() {
    let r = rules();
    let v = date::parse_first("2021-01-05", &r)
        .unwrap()
        .to_published(tz8(), "x");
    assert_eq!(v.precision, Precision::Date);
    let v = date::parse_first("2021-01-05 08:00", &r)
        .unwrap()
        .to_published(tz8(), "x");
    assert_eq!(v.precision, Precision::DateTime);
}

#[test]
fn url_dates() {
    let r = rules();
    let d = |u: &str| {
        date::url_date(u, &r)
            .and_then(|d| d.day)
            .map(|d| d.to_string())
    };
    assert_eq!(
        d("http://x.gov.cn/a/201910/t20191023_123.html").as_deref(),
        Some("2019-10-23")
    );
    assert_eq!(
        d("http://x.cn/news/2019-10/23/content_1.htm").as_deref(),
        Some("2019-10-23")
    );
    assert_eq!(
        d("http://x.cn/a/201910/23/c_1.html").as_deref(),
        Some("2019-10-23")
    );
    assert_eq!(
        d("http://x.cn/a/20191023/1.html").as_deref(),
        Some("2019-10-23")
    );
    assert_eq!(
        d("http://x.cn/a/2019/10/23/1.html").as_deref(),
        Some("2019-10-23")
    );
    let month = date::url_date("http://x.cn/col/201910/abc.html", &r).unwrap();
    assert_eq!((month.year, month.month, month.day), (2019, 10, None));
    assert_eq!(d("http://x.cn/a/b.html"), None);
}

/// Runs `meta::read` over an HTML string.
fn read_html(html: &str, url: Option<&str>) -> meta::PageMeta {
    let r = Rules::builtin().unwrap();
    let doc = scraper::Html::parse_document(html);
    let page = url.map(|u| url::Url::parse(u).unwrap());
    let base = meta::base_url(&doc, page.as_ref());
    meta::read(&doc, base.as_ref(), &r.meta, &ExtractOptions::default())
}

#[test]
fn header_today_widget_and_copyright_year_are_not_the_date() {
    let html = "<html><head><title>某县召开会议_某县政府</title></head><body>\
        <div>今天是：2031年05月20日 星期二</div><div>2031年05月21日 星期三</div>\
        <h1>某县召开会议</h1><div>日期：2021-03-04</div><p>会议内容很长很长。</p>\
        <div>Copyright © 2030 某县人民政府 版权所有</div></body></html>";
    let m = read_html(html, None);
    assert_eq!(m.published.unwrap().value, "2021-03-04");
}

#[test]
fn issue_date_not_signing_date() {
    let m = read_html(include_str!("fixtures/meta/policy.html"), None);
    let p = m.published.unwrap();
    assert_eq!(p.value, "2020-11-05");
    assert_eq!(m.title.as_deref(), Some("关于做好冬季防火工作的通知"));
}

#[test]
fn pubdate_regeneration_trap() {
    // No visible date, PubDate years after the URL date: the URL wins.
    let html =
        "<html><head><title>某标题</title><meta name=\"PubDate\" content=\"2023-08-16 10:33:59\">\
        </head><body><h1>某标题</h1><p>正文内容。</p></body></html>";
    let m = read_html(html, Some("http://x.gov.cn/a/201705/t20170515_1.html"));
    let p = m.published.unwrap();
    assert_eq!((p.value.as_str(), p.from.as_str()), ("2017-05-15", "url"));
    // The visible date wins over a disagreeing PubDate.
    let html = "<html><head><title>某标题</title><meta name=\"PubDate\" content=\"2022-04-24 10:00:43\">\
        </head><body><h1>某标题</h1><div>发布日期：2017-05-15 10:49</div><p>正文内容。</p></body></html>";
    let p = read_html(html, None).published.unwrap();
    assert_eq!(p.value, "2017-05-15T10:49:00+08:00");
    // A PubDate equal to the 页面生成时间 stamp is not trusted.
    let html = "<html><head><title>某标题</title><meta name=\"PubDate\" content=\"2022-04-24 10:00:43\">\
        <meta name=\"others\" content=\"页面生成时间 2022-04-24 10:00:43\"></head><body><p>x</p></body></html>";
    assert!(read_html(html, None).published.is_none());
    // A visible date without time borrows the time of a same-day meta.
    let html =
        "<html><head><title>某标题</title><meta name=\"PubDate\" content=\"2016-11-22 09:53\">\
        </head><body><h1>某标题</h1><div>发布日期：2016-11-22</div></body></html>";
    let p = read_html(html, None).published.unwrap();
    assert_eq!(p.value, "2016-11-22T09:53:00+08:00");
}

// ------------------------------------------------------------------ label lines

#[test]
fn source_with_trailing_date_and_other_labels() {
    let r = rules();
    let info = people::read_line("来源：新华社 2019-10-23 作者：张三", &r);
    assert_eq!(info.source.as_deref(), Some("新华社"));
    assert_eq!(info.author.as_deref(), Some("张三"));
    let info = people::read_line("来源：人民日报2024-05-13 08:49", &r);
    assert_eq!(info.source.as_deref(), Some("人民日报"));
    let info = people::read_line("2019-09-26 12:11来源：证券时报网作者：李在山", &r);
    assert_eq!(info.source.as_deref(), Some("证券时报网"));
    assert_eq!(info.author.as_deref(), Some("李在山"));
    let info = people::read_line("2020年07月04日 12:10　来源：求是网参与互动", &r);
    assert_eq!(info.source.as_deref(), Some("求是网"));
    let info = people::read_line("来源: 中国新闻网(北京)", &r);
    assert_eq!(info.source.as_deref(), Some("中国新闻网"));
    let info = people::read_line(
        "发稿时间：2024-05-20 13:15:00 来源：央视新闻客户端 中国青年网",
        &r,
    );
    assert_eq!(info.source.as_deref(), Some("央视新闻客户端"));
    assert_eq!(
        info.author, None,
        "an outlet after the source is not an author"
    );
    let info = people::read_line("来源：某某新闻网 王小帆", &r);
    assert_eq!(info.author.as_deref(), Some("王小帆"));
    let info = people::read_line("本文来源于北京商报　2024-05-20 09:47:48", &r);
    assert_eq!(info.source.as_deref(), Some("北京商报"));
}

#[test]
fn author_editor_source_on_one_line() {
    let r = rules();
    let info = people::read_line(
        "本文来源：第一财经日报 作者：杜卿卿 李隽 责任编辑：NF050",
        &r,
    );
    assert_eq!(info.source.as_deref(), Some("第一财经日报"));
    assert_eq!(info.author.as_deref(), Some("杜卿卿、李隽"));
    assert_eq!(info.editor.as_deref(), Some("NF050"));
    assert!(info.only_meta);
    let info = people::read_line("作者： 记者王敬照 编辑： 王华军", &r);
    assert_eq!(info.author.as_deref(), Some("王敬照"));
    assert_eq!(info.editor.as_deref(), Some("王华军"));
    let info = people::read_line("[作者: 刘满仓 　责任编辑: 杨丹宇 ]", &r);
    assert_eq!(info.author.as_deref(), Some("刘满仓"));
    assert_eq!(info.editor.as_deref(), Some("杨丹宇"));
    let info = people::read_line("(作者：方敏北京大学经济学院教授)", &r);
    assert_eq!(info.author.as_deref(), Some("方敏"));
    // Compounds that only look like 来源 are not the source and keep the line.
    let info = people::read_line("（资料来源：参考消息、海外网等）", &r);
    assert_eq!(info.source, None);
    assert!(!info.only_meta);
    // Prose with a role word is not a byline.
    let info = people::read_line("记者注意到，自6月份以来多地已经发放。", &r);
    assert_eq!(info.author, None);
}

#[test]
fn bylines() {
    let r = rules();
    let (outlet, names) = people::byline("雅安日報/北緯網記者　張雨蝶", &r).unwrap();
    assert_eq!(outlet.as_deref(), Some("雅安日報/北緯網"));
    assert_eq!(names, vec!["張雨蝶"]);
    let (outlet, names) = people::byline("本报记者 王乐文 方 敏", &r).unwrap();
    assert_eq!(outlet, None, "本报 is the paper itself");
    assert_eq!(names, vec!["王乐文", "方敏"]);
    let (_, names) = people::byline("记者林悅／南市報導", &r).unwrap();
    assert_eq!(names, vec!["林悅"]);
    let (_, names) = people::byline("执笔/叨叨姐、胡一刀&李小飞刀", &r).unwrap();
    assert_eq!(names, vec!["叨叨姐", "胡一刀", "李小飞刀"]);
    let names = people::dateline_author(
        "北京商报讯（记者 岳品瑜 董晗萱）5月20日，中国人民银行公布。",
        &r,
    )
    .unwrap();
    assert_eq!(names, vec!["岳品瑜", "董晗萱"]);
    let names =
        people::dateline_author("（中央社記者邱俊欽桃園19日電）桃園市今天清晨發生大火。", &r)
            .unwrap();
    assert_eq!(names, vec!["邱俊欽"]);
    let names =
        people::dateline_author("长江网10月4日讯（记者陈智 整合） 国庆中秋长假过半。", &r).unwrap();
    assert_eq!(names, vec!["陈智"]);
    let names = people::trailing_author("南美站活动将先后在三国举行。（张巨峰）", &r).unwrap();
    assert_eq!(names, vec!["张巨峰"]);
    let names = people::trailing_author("区领导参加会议。记者  李秋晨", &r).unwrap();
    assert_eq!(names, vec!["李秋晨"]);
    let names = people::trailing_author("全文完。（编译/林靖东）", &r).unwrap();
    assert_eq!(names, vec!["林靖东"]);
    // Units are not people.
    assert_eq!(
        people::trailing_author("增长10.4%。（万载县统计局）", &r),
        None
    );
}

#[test]
fn title_suffix_removal() {
    let r = rules();
    let t = |s: &str, site: Option<&str>| title::clean_title_tag(s, site, None, &r);
    assert_eq!(
        t("某县召开会议_某县人民政府", None).as_deref(),
        Some("某县召开会议")
    );
    assert_eq!(
        t("某县召开会议 - 要闻 - 某某网", None).as_deref(),
        Some("某县召开会议")
    );
    assert_eq!(
        t("凯里市人民政府-关于某事的通知", None).as_deref(),
        Some("关于某事的通知")
    );
    assert_eq!(
        t("溪口鎮舊街煥新顏 | 地方 | 東溪新聞網", Some("東溪新聞網")).as_deref(),
        Some("溪口鎮舊街煥新顏")
    );
    // A dash inside the headline survives when no part names the site.
    assert_eq!(
        t("1-10月某县投资结构趋稳", None).as_deref(),
        Some("1-10月某县投资结构趋稳")
    );
}

#[test]
fn headline_with_bar_is_not_cut() {
    let html = "<html><head><title>棱镜|某行业大整顿：用户信息几元不等_某某网</title></head><body>\
        <h1>棱镜|某行业大整顿：用户信息几元不等</h1><div>2019-09-23 07:48</div><p>正文。</p></body></html>";
    assert_eq!(
        read_html(html, None).title.as_deref(),
        Some("棱镜|某行业大整顿：用户信息几元不等")
    );
}

// ------------------------------------------------------------------ whole pages

#[test]
fn fixture_gov_article() {
    let m = read_html(
        include_str!("fixtures/meta/gov-article.html"),
        Some("http://www.qingshan.gov.cn/bdyw/202110/t20211015_778899.html"),
    );
    assert_eq!(m.title.as_deref(), Some("青山县举办秋季农产品展销会"));
    let p = m.published.clone().unwrap();
    assert_eq!(p.value, "2021-10-15T09:30:00+08:00");
    assert_eq!(p.from, "visible_line");
    assert_eq!(
        m.source.as_deref(),
        Some("青山日报"),
        "visible text, not the stale alt"
    );
    assert_eq!(m.author.as_deref(), Some("李青竹"));
    assert_eq!(m.editor.as_deref(), Some("王小松"));
    assert_eq!(m.site_name.as_deref(), Some("青山县人民政府"));
    assert_eq!(m.site_id_code.as_deref(), Some("9901230001"));
    assert_eq!(m.column.as_deref(), Some("本地要闻"));
    assert_eq!(m.keywords, vec!["农产品", "展销会", "秋季"]);
    assert_eq!(
        m.canonical_url.as_deref(),
        Some("http://www.qingshan.gov.cn/bdyw/202110/t20211015_778899.html")
    );
}

#[test]
fn fixture_traditional_byline_at_the_end() {
    let html = include_str!("fixtures/meta/news-byline.html");
    let mut m = read_html(html, None);
    assert_eq!(m.title.as_deref(), Some("溪口鎮舊街煥新顏"));
    assert_eq!(
        m.published.as_ref().unwrap().value,
        "2022-03-08T14:05:00+08:00"
    );
    assert_eq!(m.editor.as_deref(), Some("張編輯"));
    let para = |t: &str| Block {
        kind: BlockKind::Paragraph,
        text: t.to_string(),
    };
    let mut body = Body {
        blocks: vec![
            para("溪口鎮舊街煥新顏"),
            para("溪口鎮的舊街經過一年整修，重新開放給遊客。"),
            para("居民表示，街道變得更乾淨，也更熱鬧了。"),
            para("東溪日報/溪聲網記者　陳海文"),
            para("【責任編輯：張編輯】"),
            para("【字號 大 中 小】【列印】"),
        ],
        ..Default::default()
    };
    meta::complete(&mut m, &mut body, &rules());
    assert_eq!(
        m.author.as_deref(),
        Some("陳海文"),
        "the meta author is the editor"
    );
    assert_eq!(m.source.as_deref(), Some("東溪日報/溪聲網"));
    assert_eq!(m.script.as_deref(), Some("zh-Hant"));
    assert_eq!(m.language.as_deref(), Some("zh"));
    let texts: Vec<&str> = body.blocks.iter().map(|b| b.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "溪口鎮的舊街經過一年整修，重新開放給遊客。",
            "居民表示，街道變得更乾淨，也更熱鬧了。"
        ]
    );
}

#[test]
fn complete_keeps_trailing_credit_and_removes_info_lines() {
    let mut m = meta::PageMeta {
        title: Some("某市召开推进会".into()),
        ..Default::default()
    };
    let para = |t: &str| Block {
        kind: BlockKind::Paragraph,
        text: t.to_string(),
    };
    let mut body = Body {
        blocks: vec![
            para("来源：某某日报 发布时间：2021-01-01 10:00"),
            para("会议强调，要狠抓落实。"),
            para("会议要求各单位认真贯彻。（王小明）"),
        ],
        ..Default::default()
    };
    meta::complete(&mut m, &mut body, &rules());
    assert_eq!(m.author.as_deref(), Some("王小明"));
    assert_eq!(m.source.as_deref(), Some("某某日报"));
    assert_eq!(m.script.as_deref(), Some("zh-Hans"));
    assert_eq!(body.blocks.len(), 2);
    assert!(body.blocks[1].text.ends_with("（王小明）"));
}

#[test]
fn deep_nesting_does_not_overflow() {
    // html5ever's own tree building is slow at this depth in debug builds; the
    // scan itself is iterative, which is what the small stack checks.
    let depth = 30_000;
    let mut html = String::with_capacity(depth * 11 + 100);
    html.push_str("<html><head><title>深层页面</title></head><body>");
    for _ in 0..depth {
        html.push_str("<div>");
    }
    html.push_str("<h1>深层页面</h1>发布时间：2020-01-02");
    for _ in 0..depth {
        html.push_str("</div>");
    }
    html.push_str("</body></html>");
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || read_html(&html, None))
        .unwrap();
    let m = handle.join().expect("no stack overflow");
    assert_eq!(m.title.as_deref(), Some("深层页面"));
}

#[test]
fn user_rules_extend_builtin() {
    let builtin = gazette::rules::BUILTIN_FILES
        .iter()
        .find(|(n, _)| *n == "meta.toml")
        .unwrap()
        .1;
    let extra = "[labels]\nsource = [\"供稿单位\"]\n";
    let r = MetaRules::compile(&[
        gazette::rules::RuleSource {
            name: "built-in".into(),
            text: builtin.into(),
        },
        gazette::rules::RuleSource {
            name: "user".into(),
            text: extra.into(),
        },
    ])
    .unwrap();
    assert_eq!(
        people::read_line("供稿单位：某某中心", &r)
            .source
            .as_deref(),
        Some("某某中心")
    );
    let bad = gazette::rules::RuleSource {
        name: "user".into(),
        text: "[[date_format]]\nname=\"x\"\npattern=\"(\"\n".into(),
    };
    let err = MetaRules::compile(&[bad]).unwrap_err().to_string();
    assert!(err.contains("date_format 'x'"), "{err}");
}

/// A paragraph that opens with a dateline credit is the article, not a metadata line
/// (it was once removed whole, leaving a one-paragraph article empty).
#[test]
fn dateline_paragraph_is_prose_not_a_metadata_line() {
    let r = rules();
    let line =
        "县融媒体中心讯（记者 王小明 李四）6月3日，县人民政府召开全县防汛工作会议，部署当前工作。";
    let info = people::read_line(line, &r);
    assert!(!info.only_meta, "{info:?}");
    let mut body = Body {
        blocks: vec![Block {
            kind: BlockKind::Paragraph,
            text: line.to_string(),
        }],
        ..Body::default()
    };
    let mut page = meta::PageMeta::default();
    meta::complete(&mut page, &mut body, &r);
    assert_eq!(body.blocks.len(), 1);
    assert_eq!(page.author.as_deref(), Some("王小明、李四"));
}
