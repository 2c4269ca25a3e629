//! Search as people type, one case per class of what a pinyin keyboard or a hurried hand sends:
//! the last word still being typed, `v`/`u:` for `ü`, tone marks, spaced syllables, Chinese
//! mixed with pinyin, polyphonic given names, surname readings and compound surnames.

use super::{Engine, Harness};

impl Harness {
    /// Public residents with these names and no records; delivered to the index.
    async fn people_named(&self, names: &[&str]) {
        for name in names {
            self.person(name, None, true, &[]).await;
        }
        self.app.drain().await;
    }

    /// `name` is the first person found for every query in `queries`.
    async fn assert_first(&self, name: &str, queries: &[&str]) {
        for q in queries {
            let found = self.people(q).await;
            assert_eq!(
                found.first().map(String::as_str),
                Some(name),
                "query {q:?} found {found:?}"
            );
        }
    }
}

pub async fn last_word_matches_as_it_is_typed(engine: Engine) {
    let h = engine.app().await;
    h.people_named(&["陈晓宇", "陈小明", "刘德华", "刘德", "诸葛明"])
        .await;
    h.assert_first("陈晓宇", &["chenxiaoy", "chen xiaoy", "陈晓y"])
        .await;
    assert!(!h.people("chenxiaoy").await.contains(&"陈小明".to_string()));
    h.assert_first("诸葛明", &["zhuge", "zhug", "zhuge m"])
        .await;
    let liu_de = h.people("liu de").await;
    assert!(
        liu_de.contains(&"刘德华".to_string()) && liu_de.contains(&"刘德".to_string()),
        "liu de: {liu_de:?}"
    );
    let found = h.people("刘德").await;
    assert!(found.contains(&"刘德华".to_string()), "刘德: {found:?}");
    // An exact name still ranks first, in characters and in joined pinyin. (Spaced, `liu de`
    // finds both; Meilisearch does not rank the shorter name first then.)
    h.assert_first("刘德", &["刘德", "liude"]).await;
    h.assert_first("刘德华", &["刘德华", "liudehua", "liu deh"])
        .await;
    h.finish().await;
}

pub async fn v_and_u_colon_stand_for_u_umlaut(engine: Engine) {
    let h = engine.app().await;
    h.people_named(&["吕略", "卢悦", "王女英", "王努"]).await;
    h.assert_first(
        "吕略",
        &["lvlve", "lv lve", "lve", "lüe", "lu:e", "lǚ lüè", "LÜE"],
    )
    .await;
    assert_eq!(h.people("lv").await, vec!["吕略"]);
    h.assert_first("王女英", &["wangnv", "nv", "wang nvying", "nǚ"])
        .await;
    assert!(!h.people("nv").await.contains(&"王努".to_string()));
    h.finish().await;
}

pub async fn tone_marks_and_spaced_syllables(engine: Engine) {
    let h = engine.app().await;
    super::namesakes(&h).await;
    h.assert_first(
        "孙建伟",
        &[
            "sūn jiànwěi",
            "Sūn Jiàn Wěi",
            "sun jian wei",
            "sun jian w",
            "sunjianw",
            "sunjw",
        ],
    )
    .await;
    h.finish().await;
}

pub async fn chinese_mixed_with_pinyin(engine: Engine) {
    let h = engine.app().await;
    super::namesakes(&h).await;
    h.assert_first("孙建伟", &["孙jianwei", "孙jianw", "孙 jian wei"])
        .await;
    let found = h.people("孙jianwei").await;
    assert!(!found.contains(&"王建伟".to_string()), "{found:?}");
    assert!(!found.contains(&"孙建国".to_string()), "{found:?}");
    h.finish().await;
}

pub async fn every_reading_of_a_polyphonic_given_name(engine: Engine) {
    let h = engine.app().await;
    h.people_named(&["李长春", "王乐", "张行"]).await;
    h.assert_first("李长春", &["lichangchun", "lizhangchun", "li changc"])
        .await;
    h.assert_first("王乐", &["wangle", "wangyue", "wang yue"])
        .await;
    h.assert_first("张行", &["zhangxing", "zhanghang", "zhang hang"])
        .await;
    h.finish().await;
}

pub async fn surnames_with_their_surname_reading(engine: Engine) {
    let h = engine.app().await;
    let people = [
        ("单立新", "shan", "lixin"),
        ("曾小红", "zeng", "xiaohong"),
        ("仇建平", "qiu", "jianping"),
        ("区志强", "ou", "zhiqiang"),
        ("解文华", "xie", "wenhua"),
        ("朴正熙", "piao", "zhengxi"),
        ("查良镛", "zha", "liangyong"),
        ("盖立民", "ge", "limin"),
        ("尉丽娟", "wei", "lijuan"),
        ("尉迟敬德", "yuchi", "jingde"),
    ];
    h.people_named(&people.map(|(name, ..)| name)).await;
    for (name, surname, given) in people {
        h.assert_first(
            name,
            &[&format!("{surname}{given}"), &format!("{surname} {given}")],
        )
        .await;
    }
    h.finish().await;
}

pub async fn compound_surnames_as_units(engine: Engine) {
    let h = engine.app().await;
    let people = [
        ("欧阳美玲", "ouyang"),
        ("司马光明", "sima"),
        ("上官云", "shangguan"),
        ("诸葛明", "zhuge"),
        ("皇甫建", "huangfu"),
        ("尉迟勇", "yuchi"),
        ("公孙立", "gongsun"),
        ("慕容华", "murong"),
        ("令狐平", "linghu"),
        ("端木蓉", "duanmu"),
        ("东方晓", "dongfang"),
        ("夏侯杰", "xiahou"),
        ("长孙伟", "zhangsun"),
    ];
    h.people_named(&people.map(|(name, _)| name)).await;
    for (name, surname) in people {
        let given: String = name.chars().skip(2).collect();
        let whole = format!("{surname} {}", youde::domain::naming::person_pinyin(&given));
        h.assert_first(name, &[surname, &whole]).await;
    }
    h.finish().await;
}
