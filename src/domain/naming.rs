//! Pinyin and URL slugs derived from Chinese names: 孙建伟 → "sun jianwei", `sun-jianwei`, "sjw";
//! and every way a name may be read, for search ([`name_readings`]).

use pinyin::{ToPinyin, ToPinyinMulti};

/// Compound surnames, read as one unit.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "司徒", "尉迟", "长孙", "夏侯",
    "公孙", "宇文", "澹台", "端木", "西门", "南宫", "司空", "呼延", "万俟", "单于", "钟离", "闻人",
    "赫连", "轩辕", "独孤", "申屠", "公冶", "濮阳", "淳于", "鲜于", "拓跋",
];

/// Compound surnames read differently from their characters' first readings.
const COMPOUND_READINGS: &[(&str, &[&str])] = &[
    ("尉迟", &["yu", "chi"]),
    ("长孙", &["zhang", "sun"]),
    ("万俟", &["mo", "qi"]),
    ("单于", &["chan", "yu"]),
];

/// Surnames whose reading differs from the character's most common one.
const SURNAME_READINGS: &[(char, &str)] = &[
    ('单', "shan"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('区', "ou"),
    ('朴', "piao"),
    ('查', "zha"),
    ('曾', "zeng"),
    ('乐', "yue"),
    ('盖', "ge"),
    ('缪', "miao"),
    ('翟', "zhai"),
    ('秘', "bi"),
    ('尉', "wei"),
    ('任', "ren"),
    ('华', "hua"),
    ('纪', "ji"),
    ('种', "chong"),
    ('繁', "po"),
    ('召', "shao"),
    ('员', "yun"),
    ('覃', "qin"),
    ('黑', "he"),
    ('祭', "zhai"),
    ('万', "wan"),
    ('柏', "bai"),
    ('宓', "mi"),
    ('车', "che"),
];

/// Words whose characters the character table reads wrongly in context (音乐 is yinyue, not
/// yinle; 长寿 is changshou, not zhangshou). Place and community words first: slugs come from them.
const PHRASE_READINGS: &[(&str, &[&str])] = &[
    ("音乐", &["yin", "yue"]),
    ("长寿", &["chang", "shou"]),
    ("长宁", &["chang", "ning"]),
    ("长风", &["chang", "feng"]),
    ("长征", &["chang", "zheng"]),
    ("长江", &["chang", "jiang"]),
    ("长安", &["chang", "an"]),
    ("长春", &["chang", "chun"]),
    ("长沙", &["chang", "sha"]),
    ("重庆", &["chong", "qing"]),
    ("银行", &["yin", "hang"]),
    ("厦门", &["xia", "men"]),
    ("朝阳", &["chao", "yang"]),
    ("曹家渡", &["cao", "jia", "du"]),
];

/// The reading of each character of `text`, with phrase readings applied.
fn readings(text: &str) -> Vec<Option<String>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Option<String>> = text
        .to_pinyin()
        .map(|p| p.map(|p| p.plain().to_string()))
        .collect();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..].iter().collect();
        match PHRASE_READINGS
            .iter()
            .find(|(phrase, _)| rest.starts_with(phrase))
        {
            Some((_, syllables)) => {
                for (k, s) in syllables.iter().enumerate() {
                    out[i + k] = Some(s.to_string());
                }
                i += syllables.len();
            }
            None => i += 1,
        }
    }
    out
}

/// The pinyin of a text as a list of syllables (or Latin words kept as they are).
fn syllables(text: &str, surname_chars: usize) -> Vec<String> {
    if surname_chars == 2 {
        if let Some((_, readings)) = COMPOUND_READINGS.iter().find(|(s, _)| *s == text) {
            return readings.iter().map(|s| s.to_string()).collect();
        }
    }
    let mut out = Vec::new();
    let mut latin = String::new();
    for (i, (c, p)) in text.chars().zip(readings(text)).enumerate() {
        let reading = if i < surname_chars {
            SURNAME_READINGS
                .iter()
                .find(|(s, _)| *s == c)
                .map(|(_, r)| r.to_string())
        } else {
            None
        };
        match reading.or(p) {
            Some(syllable) => {
                if !latin.is_empty() {
                    out.push(std::mem::take(&mut latin));
                }
                out.push(syllable);
            }
            None if c.is_ascii_alphanumeric() => latin.push(c.to_ascii_lowercase()),
            None => {
                if !latin.is_empty() {
                    out.push(std::mem::take(&mut latin));
                }
            }
        }
    }
    if !latin.is_empty() {
        out.push(latin);
    }
    out
}

fn surname_len(name: &str) -> usize {
    if COMPOUND_SURNAMES.iter().any(|s| name.starts_with(s)) {
        2
    } else {
        1
    }
}

fn is_han(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.to_pinyin().is_some())
}

/// Pinyin of a person's name as written on a page: surname, space, given name joined —
/// "sun jianwei", "ouyang xiu". Names not in Chinese characters are lower-cased words.
pub fn person_pinyin(name: &str) -> String {
    let name = name.trim();
    if !is_han(name) {
        return syllables(name, 0).join(" ");
    }
    let n = surname_len(name);
    let surname: String = name.chars().take(n).collect();
    let given: String = name.chars().skip(n).collect();
    let surname = syllables(&surname, n).concat();
    let given = syllables(&given, 0).concat();
    [surname, given]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// First letters of each syllable: 孙建伟 → "sjw".
pub fn initials(name: &str) -> String {
    let n = if is_han(name) {
        surname_len(name.trim())
    } else {
        0
    };
    syllables(name.trim(), n)
        .iter()
        .filter_map(|s| s.chars().next())
        .collect()
}

/// At most this many readings of one name are indexed (a four-character name of polyphonic
/// characters could have dozens); the ordinary reading always comes first.
const MAX_READINGS: usize = 16;

/// One way of reading a name: surname and given name as tone-less syllables, `ü` written `v` as
/// pinyin keyboards type it (吕 → `lv`). A name not in Chinese characters has its words as `given`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameReading {
    pub surname: Vec<String>,
    pub given: Vec<String>,
}

fn keyboard(syllable: &str) -> String {
    syllable.replace('ü', "v")
}

/// Every way `name` may be read, the ordinary reading ([`person_pinyin`]) first: the surname with
/// its surname reading (单 shan, 尉 wei; a compound surname as one unit: 尉迟 yuchi, 长孙
/// zhangsun), each character of the given name with every reading it has (长 chang/zhang,
/// 乐 le/yue, 行 xing/hang). At most 16.
pub fn name_readings(name: &str) -> Vec<NameReading> {
    let name = name.trim();
    let keys = |v: Vec<String>| v.iter().map(|s| keyboard(s)).collect::<Vec<_>>();
    if !is_han(name) {
        return vec![NameReading {
            surname: vec![],
            given: keys(syllables(name, 0)),
        }];
    }
    let n = surname_len(name);
    let surname: String = name.chars().take(n).collect();
    let given: String = name.chars().skip(n).collect();
    let surname = keys(syllables(&surname, n));
    let ordinary = keys(syllables(&given, 0));
    let mut out = vec![NameReading {
        surname: surname.clone(),
        given: ordinary.clone(),
    }];
    // Readings per given-name character; characters without pinyin (Latin runs) keep the
    // ordinary reading's syllables, so only all-Han given names get alternatives.
    let chars: Vec<char> = given.chars().collect();
    if chars.len() != ordinary.len() {
        return out;
    }
    let choices: Vec<Vec<String>> = chars
        .iter()
        .zip(&ordinary)
        .map(|(c, first)| {
            let mut options = vec![first.clone()];
            if let Some(multi) = c.to_pinyin_multi() {
                for p in multi {
                    let s = keyboard(p.plain());
                    if !options.contains(&s) {
                        options.push(s);
                    }
                }
            }
            options
        })
        .collect();
    let mut combos: Vec<Vec<String>> = vec![vec![]];
    for options in &choices {
        let mut next = Vec::new();
        for combo in &combos {
            for option in options {
                if next.len() < MAX_READINGS {
                    let mut c = combo.clone();
                    c.push(option.clone());
                    next.push(c);
                }
            }
        }
        combos = next;
    }
    for given in combos {
        if given != ordinary {
            out.push(NameReading {
                surname: surname.clone(),
                given,
            });
        }
    }
    out
}

/// The base URL slug of a person: "sun-jianwei" (the caller adds `-2`, `-3` on collision).
pub fn person_slug(name: &str) -> String {
    slugify(&person_pinyin(name))
}

/// The base URL slug of a place or other text: 音乐广场 → "yinyueguangchang".
pub fn text_slug(text: &str) -> String {
    slugify(&syllables(text, 0).concat())
}

fn slugify(s: &str) -> String {
    let mut slug = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(60).collect();
    if slug.is_empty() {
        "x".to_string()
    } else {
        slug.trim_end_matches('-').to_string()
    }
}

/// The first slug in `base`, `base-2`, `base-3`, … that `taken` does not hold.
pub fn unique_slug(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.iter().any(|t| t == candidate))
        .expect("an unused suffix exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sun_jianwei() {
        assert_eq!(person_pinyin("孙建伟"), "sun jianwei");
        assert_eq!(person_slug("孙建伟"), "sun-jianwei");
        assert_eq!(initials("孙建伟"), "sjw");
    }

    #[test]
    fn surnames_read_as_surnames() {
        assert_eq!(person_pinyin("欧阳修"), "ouyang xiu");
        assert_eq!(person_pinyin("单雄信"), "shan xiongxin");
        assert_eq!(person_pinyin("曾国藩"), "zeng guofan");
        assert_eq!(initials("欧阳修"), "oyx");
        assert_eq!(person_pinyin("尉迟恭"), "yuchi gong");
        assert_eq!(person_pinyin("长孙无忌"), "zhangsun wuji");
        assert_eq!(person_pinyin("尉缭"), "wei liao");
        assert_eq!(person_pinyin("端木蓉"), "duanmu rong");
    }

    fn readings_of(name: &str) -> Vec<String> {
        name_readings(name)
            .into_iter()
            .map(|r| format!("{} {}", r.surname.concat(), r.given.concat()))
            .collect()
    }

    #[test]
    fn every_reading_of_a_given_name_surnames_as_surnames() {
        for (name, reading) in [
            ("李长春", "li zhangchun"),
            ("李长春", "li changchun"),
            ("王乐", "wang le"),
            ("王乐", "wang yue"),
            ("张行", "zhang xing"),
            ("张行", "zhang hang"),
            ("吕略", "lv lve"),
        ] {
            assert!(
                readings_of(name).contains(&reading.to_string()),
                "{name}: {:?}",
                readings_of(name)
            );
        }
        // The first reading is the one pages show; a surname has only its surname reading.
        assert_eq!(readings_of("单雄信")[0], "shan xiongxin");
        assert!(readings_of("单雄信").iter().all(|r| r.starts_with("shan ")));
        assert!(readings_of("尉迟恭")
            .iter()
            .all(|r| r.starts_with("yuchi ")));
        assert_eq!(name_readings("Anna Lee")[0].given, vec!["anna", "lee"]);
        assert!(name_readings("乐乐乐乐乐乐").len() <= 16);
    }

    #[test]
    fn latin_names_and_places() {
        assert_eq!(person_slug("Anna Müller"), "anna-m-ller");
        assert_eq!(text_slug("音乐广场"), "yinyueguangchang");
        assert_eq!(text_slug("长寿路街道"), "changshoulujiedao");
        assert_eq!(person_slug("？？"), "x");
    }

    #[test]
    fn collisions_get_the_next_free_number() {
        let taken = vec!["sun-jianwei".to_string(), "sun-jianwei-2".to_string()];
        assert_eq!(unique_slug("sun-jianwei", &taken), "sun-jianwei-3");
        assert_eq!(unique_slug("li-ming", &taken), "li-ming");
    }
}
