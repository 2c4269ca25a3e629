#!/usr/bin/env python3
"""The city-scale registry for bench/city.sh, as tab-separated files for PostgreSQL's COPY.

    bench/city_gen.py OUT_DIR RESIDENTS FIRST_COMMUNITY_ID USER_ID CATEGORY_ID

Writes OUT_DIR/{communities,residents,consents,service_records,nominations,recognitions}.tsv in
COPY's text format (columns in the order of COLUMNS below, printed as JSON on stdout with the
other facts city.sh needs), plus OUT_DIR/public_slugs.txt (every public profile's slug, one a line)
and OUT_DIR/streets.tsv (街道 id, slug, name).

The tree: 16 districts (上海's), 200 街道 among them (12 or 13 each), 30 居民区 under each 街道:
6,000 居民区, about the city's count of residents' committees. Residents are spread evenly over the
居民区; names are a common surname (weighted roughly by frequency) and a given name of one or two
characters, so common names repeat as they do in a real city (slugs then get -2, -3 … as the app
gives them). 3–5 service records each; 7 in 8 have an active profile consent (public); 1 in 20 are
honoured (a recognised nomination and its recognition) — the mix of bench/scale.sh.
Standard library only; deterministic (fixed seed).
"""
import json
import os
import random
import sys
import time

out, n, first_community, user_id, category_id = (
    sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
rng = random.Random(20261130)
NOW = "2026-11-30 08:00:00+00"

COLUMNS = {
    "communities": "id, name, kind, parent_id, slug, version, created_at, updated_at",
    "residents": "id, name, pinyin, slug, community_id, citation, phone, birth_year, address, "
                 "version, created_at, updated_at",
    "consents": "id, resident_id, scope, text_version, signed_on, recorded_by, created_at",
    "service_records": "id, resident_id, kind, title, start_date, end_date, unpaid, measures, "
                       "recorded_by, version, created_at, updated_at",
    "nominations": "id, resident_id, category_id, honour_title, year, citation, nominator_id, state, "
                   "version, created_at, updated_at",
    "recognitions": "id, nomination_id, resident_id, category_id, title, year, citation, "
                    "recognised_on, recognised_by, version, created_at",
}

# Surnames with rough weights (per mille of the population, rounded), compound ones rare.
SURNAMES = [
    ("王", "wang", 72), ("李", "li", 72), ("张", "zhang", 69), ("刘", "liu", 54), ("陈", "chen", 45),
    ("杨", "yang", 31), ("黄", "huang", 22), ("赵", "zhao", 20), ("吴", "wu", 20), ("周", "zhou", 19),
    ("徐", "xu", 17), ("孙", "sun", 15), ("马", "ma", 15), ("朱", "zhu", 14), ("胡", "hu", 13),
    ("郭", "guo", 12), ("何", "he", 12), ("高", "gao", 11), ("林", "lin", 11), ("罗", "luo", 10),
    ("郑", "zheng", 9), ("梁", "liang", 9), ("谢", "xie", 8), ("宋", "song", 7), ("唐", "tang", 7),
    ("许", "xu", 7), ("韩", "han", 7), ("冯", "feng", 7), ("邓", "deng", 7), ("曹", "cao", 6),
    ("彭", "peng", 6), ("曾", "zeng", 6), ("肖", "xiao", 6), ("田", "tian", 5), ("董", "dong", 5),
    ("袁", "yuan", 5), ("潘", "pan", 5), ("于", "yu", 5), ("蒋", "jiang", 5), ("蔡", "cai", 5),
    ("余", "yu", 4), ("杜", "du", 4), ("叶", "ye", 4), ("程", "cheng", 4), ("苏", "su", 4),
    ("魏", "wei", 4), ("吕", "lv", 4), ("丁", "ding", 4), ("任", "ren", 4), ("沈", "shen", 4),
    ("姚", "yao", 3), ("卢", "lu", 3), ("姜", "jiang", 3), ("崔", "cui", 3), ("钟", "zhong", 3),
    ("谭", "tan", 3), ("陆", "lu", 3), ("汪", "wang", 3), ("范", "fan", 3), ("金", "jin", 3),
    ("石", "shi", 3), ("廖", "liao", 3), ("贾", "jia", 3), ("夏", "xia", 3), ("韦", "wei", 2),
    ("方", "fang", 2), ("顾", "gu", 2), ("严", "yan", 2), ("孔", "kong", 2), ("邵", "shao", 2),
    ("单", "shan", 1), ("欧阳", "ouyang", 1), ("司马", "sima", 1), ("诸葛", "zhuge", 1),
]
GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("英", "ying"), ("华", "hua"), ("平", "ping"), ("红", "hong"), ("霞", "xia"), ("玲", "ling"),
    ("桂", "gui"), ("建", "jian"), ("国", "guo"), ("志", "zhi"), ("兰", "lan"), ("玉", "yu"),
    ("海", "hai"), ("燕", "yan"), ("文", "wen"), ("斌", "bin"), ("春", "chun"), ("梅", "mei"),
    ("凤", "feng"), ("德", "de"), ("宝", "bao"), ("林", "lin"), ("福", "fu"), ("生", "sheng"),
    ("小", "xiao"), ("龙", "long"), ("美", "mei"), ("慧", "hui"), ("佳", "jia"), ("怡", "yi"),
    ("子", "zi"), ("涵", "han"), ("浩", "hao"), ("然", "ran"), ("雨", "yu"), ("欣", "xin"),
    ("晓", "xiao"), ("东", "dong"), ("永", "yong"), ("刚", "gang"), ("淑", "shu"), ("珍", "zhen"),
    ("瑞", "rui"), ("芬", "fen"), ("金", "jin"), ("卫", "wei"), ("爱", "ai"), ("振", "zhen"),
    ("学", "xue"), ("惠", "hui"), ("荣", "rong"), ("琴", "qin"), ("云", "yun"), ("萍", "ping"),
    ("新", "xin"), ("民", "min"), ("立", "li"), ("成", "cheng"), ("玮", "wei"), ("婷", "ting"),
    ("鹏", "peng"), ("辉", "hui"), ("健", "jian"), ("飞", "fei"), ("彬", "bin"), ("亮", "liang"),
    ("俊", "jun"), ("倩", "qian"), ("雪", "xue"), ("丹", "dan"), ("凯", "kai"), ("宇", "yu"),
    ("嘉", "jia"), ("思", "si"), ("诗", "shi"), ("欢", "huan"), ("庆", "qing"), ("根", "gen"),
]
DISTRICTS = [
    ("黄浦区", "huangpuqu"), ("徐汇区", "xuhuiqu"), ("长宁区", "changningqu"), ("静安区", "jinganqu"),
    ("普陀区", "putuoqu"), ("虹口区", "hongkouqu"), ("杨浦区", "yangpuqu"), ("闵行区", "minhangqu"),
    ("宝山区", "baoshanqu"), ("嘉定区", "jiadingqu"), ("浦东新区", "pudongxinqu"), ("金山区", "jinshanqu"),
    ("松江区", "songjiangqu"), ("青浦区", "qingpuqu"), ("奉贤区", "fengxianqu"), ("崇明区", "chongmingqu"),
]
# Place words for 街道 and 居民区 names (two of them make a name).
PLACE = [
    ("长", "chang"), ("寿", "shou"), ("宜", "yi"), ("川", "chuan"), ("石", "shi"), ("泉", "quan"),
    ("曹", "cao"), ("杨", "yang"), ("甘", "gan"), ("泉", "quan"), ("真", "zhen"), ("如", "ru"),
    ("万", "wan"), ("里", "li"), ("桃", "tao"), ("浦", "pu"), ("江", "jiang"), ("宁", "ning"),
    ("武", "wu"), ("康", "kang"), ("新", "xin"), ("华", "hua"), ("天", "tian"), ("平", "ping"),
    ("枫", "feng"), ("林", "lin"), ("凌", "ling"), ("云", "yun"), ("龙", "long"), ("田", "tian"),
    ("安", "an"), ("定", "ding"), ("嘉", "jia"), ("兴", "xing"), ("梅", "mei"), ("陇", "long"),
    ("虹", "hong"), ("桥", "qiao"), ("北", "bei"), ("南", "nan"), ("东", "dong"), ("西", "xi"),
    ("金", "jin"), ("山", "shan"), ("海", "hai"), ("丰", "feng"), ("和", "he"), ("春", "chun"),
]
STREET_SUFFIX = [("路街道", "lujiedao"), ("街道", "jiedao"), ("镇", "zhen")]
AREA_SUFFIX = [("居民区", "juminqu"), ("新村居民区", "xincunjuminqu"), ("苑居民区", "yuanjuminqu"),
               ("小区居民区", "xiaoqujuminqu"), ("花园居民区", "huayuanjuminqu")]

RECORDS = [
    ("role", "{c}业主委员会委员", None), ("role", "{c}楼组长", None),
    ("role", "居民区志愿者服务队队长", None), ("role", "{c}睦邻点负责人", None),
    ("hosting", "接待兄弟街道参访{c}", (2, 40, "visit_batches")),
    ("hosting", "接待市、区各部门领导参访智慧社区", (5, 40, "visit_batches")),
    ("project", "{c}加装电梯协调", (1, 8, "items")),
    ("project", "{c}门栋大堂改造，节约工程资金", (20000, 300000, "yuan_saved")),
    ("project", "{c}智慧社区改造", None), ("project", "垃圾分类厢房改造", None),
    ("survey", "排摸调查{c}老年居民需求", (50, 600, "households")),
    ("survey", "街道商品房小区现状调研", (10, 60, "compounds")),
    ("volunteer_hours", "楼道清洁志愿服务", (20, 500, "hours")),
    ("volunteer_hours", "垃圾分类值守", (20, 800, "hours")),
    ("volunteer_hours", "社区夜间巡逻", (10, 300, "hours")),
    ("activity", "重阳节敬老慰问", None), ("activity", "社区读书会", None),
    ("publication", "编写{c}居民公约", None), ("other", "调解邻里纠纷", (3, 40, "items")),
]
CITATIONS = [
    "{y} 年来热心{c}公共事务，工作踏实认真、一丝不苟，深受居民信赖。",
    "退休后坚持参加志愿服务，组织楼组居民开展垃圾分类和楼道清洁。",
    "作为业委会委员，他逐个门栋实地测量，用精准数据说话，为业主节约维修资金。",
    "她常年照顾独居老人，逢年过节上门慰问，被邻居称为“热心肠”。",
    "参与智慧社区建设，接待各地参访团，讲解小区改造经验。",
    "调解邻里纠纷数十起，带动身边居民参与社区治理。",
]

t0 = time.perf_counter()
os.makedirs(out, exist_ok=True)
files = {name: open(os.path.join(out, f"{name}.tsv"), "w", encoding="utf-8", buffering=1 << 20)
         for name in COLUMNS}


def row(table, *values):
    files[table].write("\t".join("\\N" if v is None else str(v) for v in values) + "\n")


taken = {}  # slug base -> next suffix, per table (as naming::unique_slug does)


def unique(table, base):
    key = (table, base)
    k = taken.get(key, 0) + 1
    taken[key] = k
    return base if k == 1 else f"{base}-{k}"


# The community tree.
cid = first_community
streets, areas = [], []
for d, (dname, dslug) in enumerate(DISTRICTS):
    district = cid
    row("communities", cid, dname, "district", None, unique("c", dslug), 1, NOW, NOW)
    cid += 1
    for s in range(200 * d // 16, 200 * (d + 1) // 16):
        a, b = PLACE[s % len(PLACE)], PLACE[(s * 7 + 3) % len(PLACE)]
        suffix = STREET_SUFFIX[0] if s % 5 < 3 else STREET_SUFFIX[1 + s % 2]
        name = a[0] + b[0] + suffix[0]
        slug = unique("c", a[1] + b[1] + suffix[1])
        street = cid
        row("communities", cid, name, "subdistrict", district, slug, 1, NOW, NOW)
        streets.append((cid, slug, name))
        cid += 1
        for r in range(30):
            a, b = PLACE[(s * 31 + r * 5) % len(PLACE)], PLACE[(s * 13 + r * 11 + 1) % len(PLACE)]
            suffix = AREA_SUFFIX[r % len(AREA_SUFFIX)]
            name = a[0] + b[0] + suffix[0]
            row("communities", cid, name, "residential_area", street,
                unique("c", a[1] + b[1] + suffix[1]), 1, NOW, NOW)
            areas.append((cid, a[0] + b[0]))
            cid += 1

surname_weights = [w for _, _, w in SURNAMES]
public_slugs = open(os.path.join(out, "public_slugs.txt"), "w", buffering=1 << 20)
record_id = consent_id = nomination_id = 0
records_of_public_kinds = {}
for i in range(n):
    rid = i + 1
    sname, spy, _ = rng.choices(SURNAMES, surname_weights)[0]
    g = [rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.3 else 2)]
    name = sname + "".join(c for c, _ in g)
    pinyin = spy + " " + "".join(p for _, p in g)
    slug = unique("r", spy + "-" + "".join(p for _, p in g))
    area, place = areas[i % len(areas)]
    since = rng.randrange(2003, 2021)
    citation = rng.choice(CITATIONS).replace("{c}", place).replace("{y}", str(2024 - since))
    row("residents", rid, name, pinyin, slug, area, citation,
        f"139{rng.randrange(100_000_000):08d}", rng.randrange(1940, 1990),
        f"{place}{rng.randrange(1, 80)}号{rng.randrange(101, 1802)}室", 1, NOW, NOW)
    for _ in range(rng.randint(3, 5)):
        kind, title, measure = rng.choice(RECORDS)
        start = rng.randrange(since, 2024)
        end = None if rng.random() < 0.2 else rng.randrange(start, 2025)
        measures = "[]" if measure is None else (
            '[{"value":%d,"unit":"%s","qualifier":"exact"}]'
            % (rng.randrange(measure[0], measure[1]), measure[2]))
        record_id += 1
        row("service_records", record_id, rid, kind, title.replace("{c}", place), start, end, "t",
            measures, "基准测试", 1, NOW, NOW)
    if i % 8 != 7:
        consent_id += 1
        row("consents", consent_id, rid, "profile", "v1", "2019-09-01", "基准测试", NOW)
        public_slugs.write(slug + "\n")
    if i % 20 == 5:  # honoured (1 in 20); 5 + 20k is never 7 mod 8, so every honoured one is public
        nomination_id += 1
        year = 2010 + i % 10
        row("nominations", nomination_id, rid, category_id, "有德之士", year, "推荐理由：" + citation,
            user_id, "recognised", 1, NOW, NOW)
        row("recognitions", nomination_id, nomination_id, rid, category_id, "有德之士", year,
            "推荐理由：" + citation, f"{year}-09-30", user_id, 1, NOW)

for f in files.values():
    f.close()
public_slugs.close()
with open(os.path.join(out, "streets.tsv"), "w") as f:
    for s in streets:
        f.write("\t".join(map(str, s)) + "\n")
print(json.dumps({
    "columns": COLUMNS, "communities": cid - first_community, "streets": len(streets),
    "areas": len(areas), "residents": n, "records": record_id, "public": consent_id,
    "honoured": nomination_id, "max_community_id": cid - 1, "seconds": round(time.perf_counter() - t0, 1),
}))
