#!/usr/bin/env bash
# Roster import benchmark: `youde import --commit` of
#   1. a generated residents roster of N rows (default 10,000; name, 小区, phone, ID number, birth
#      year, address) into a fresh registry with the demo's communities, as a UTF-8 CSV with BOM;
#   2. a generated activity sign-in sheet (kind=participation) of P rows (default 50,000): P/100
#      activities of 100 participants each, drawn from those residents by name + 小区, with a
#      default of 2 hours per activity and about a third of the rows giving their own hours.
# Each file is imported twice: the first run creates, the second finds every row unchanged (the
# idempotent path). Prints for each run the check's and the commit's time and rows per second, and
# the peak memory (max RSS, from GNU time) of the `youde import` process.
#
#   bench/imports.sh                         # SQLite, release build
#   DB=postgres bench/imports.sh             # PostgreSQL at $PGHOST:$PGPORT as $PGUSER (a fresh
#                                            # database youde_bench_<pid>, dropped at the end)
#   N=2000 P=5000 PROFILE=debug bench/imports.sh   # quicker, with the debug build's figures
#
# Works on files under a temporary folder only; removes it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-10000}
P=${P:-50000}
PROFILE=${PROFILE:-release}
DB=${DB:-sqlite}
DIR=$(mktemp -d -t youde-import-bench-XXXXXX)
PGDB="youde_bench_$$"
PGUSER=${PGUSER:-postgres}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
cleanup() {
  rm -rf "$DIR"
  if [ "$DB" = postgres ]; then
    psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -qc "drop database if exists \"$PGDB\"" postgres >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (Debian: apt-get install time)"; exit 1; }

if [ "$PROFILE" = release ]; then
  cargo build --release --quiet --bin youde
else
  cargo build --quiet --bin youde
fi
youde=${CARGO_TARGET_DIR:-target}/$PROFILE/youde

args=(--data-dir "$DIR/data" --media-dir "$DIR/media")
if [ "$DB" = postgres ]; then
  psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -qc "create database \"$PGDB\"" postgres
  args+=(--database-url "postgres://$PGUSER@$PGHOST:$PGPORT/$PGDB")
fi

python3 - "$DIR" "$N" "$P" <<'PY'
import random, sys
folder, n, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(2019)
surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁龙林欢佳阳晨瑞雪琳晶颖婷倩梅兰凤洁荣珍莉蓉春月丹翠云莲亮成文新利清飞波志海建国峰"
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
names = []
with open(f"{folder}/roster.csv", "w", encoding="utf-8-sig") as f:
    f.write("姓名,小区,手机号码,身份证号码,出生年份,住址\n")
    for i in range(n):
        name = surnames[i % len(surnames)] + given[(i // len(surnames)) % len(given)] + given[(i // (len(surnames) * len(given))) % len(given)]
        names.append(name)
        year = rng.randint(1940, 2000)
        first17 = f"310107{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{i % 1000:03d}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]
        f.write(f"{name},音乐广场,139{i:08d},{first17}{check},{year},长寿路{i % 500 + 1}号\n")
kinds = ["敬老院助老服务", "垃圾分类宣传", "楼道清洁", "读书会", "防疫志愿服务"]
with open(f"{folder}/participation.csv", "w", encoding="utf-8-sig") as f:
    f.write("活动,日期,地点,组织者,默认时长（小时）,姓名,小区,时长（小时）,记录人\n")
    per = 100
    for a in range((p + per - 1) // per):
        title = f"{kinds[a % len(kinds)]}（第{a + 1}期）"
        date = f"{2015 + a % 10}年{a % 12 + 1}月{a % 28 + 1}日"
        people = rng.sample(range(n), min(per, n))
        for k, person in enumerate(people[: p - a * per]):
            hours = rng.choice(["", "", "1", "1.5", "3", "4"])
            first = k == 0
            f.write(",".join([title, date, "长寿路敬老院" if first else "", "音乐广场居委会" if first else "",
                              "2" if first else "", names[person], "音乐广场", hours, "音乐广场居委会"]) + "\n")
PY

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; $DB; $N residents, $P sign-in rows ($PROFILE build); in $DIR"
RUST_LOG=warn "$youde" demo "${args[@]}" >/dev/null

run() { # label file kind rows
  local out="$DIR/time.txt" log="$DIR/out.txt"
  RUST_LOG=warn /usr/bin/time -v "$youde" import "$2" --kind "$3" --commit "${args[@]}" \
    >"$log" 2>"$out" || { cat "$log" "$out"; exit 1; }
  local rss check commit
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$out")
  check=$(grep -o '问题 [0-9]*（[0-9.]* 秒' "$log" | grep -o '[0-9.]* 秒' | cut -d' ' -f1)
  commit=$(grep -o '已导入.*（[0-9.]* 秒' "$log" | grep -o '[0-9.]* 秒' | cut -d' ' -f1)
  printf '%-22s check %s s (%s rows/s), commit %s s (%s rows/s), peak memory %s MB\n' "$1" \
    "$check" "$(awk -v n="$4" -v s="$check" 'BEGIN {printf "%.0f", n / s}')" \
    "$commit" "$(awk -v n="$4" -v s="$commit" 'BEGIN {printf "%.0f", n / s}')" "$rss"
  head -1 "$log"
}
run "residents first" "$DIR/roster.csv" residents "$N"
run "residents again" "$DIR/roster.csv" residents "$N"
run "participation first" "$DIR/participation.csv" participation "$P"
run "participation again" "$DIR/participation.csv" participation "$P"
