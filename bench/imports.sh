#!/usr/bin/env bash
# Roster import benchmark: `youde import --commit` of a generated residents roster of N rows
# (default 10,000; name, 小区, phone, ID number, birth year, address) into a fresh registry with
# the demo's communities, as a UTF-8 CSV with BOM.
# Prints the check's and the commit's time and rows per second, and the peak memory (max RSS,
# from GNU time) of the whole run. A second run of the same file shows the idempotent path
# (every row unchanged).
#
#   bench/imports.sh
#   N=2000 PROFILE=debug bench/imports.sh   # quicker, with the debug build's figures
#
# Works on files under a temporary folder only; removes it at the end. The 50,000-row
# participation sheet of issue #14 waits for the participation import.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-10000}
PROFILE=${PROFILE:-release}
DIR=$(mktemp -d -t youde-import-bench-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (Debian: apt-get install time)"; exit 1; }

if [ "$PROFILE" = release ]; then
  cargo build --release --quiet --bin youde
else
  cargo build --quiet --bin youde
fi
youde=${CARGO_TARGET_DIR:-target}/$PROFILE/youde

python3 - "$DIR/roster.csv" "$N" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(2019)
surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁龙林欢佳阳晨瑞雪琳晶颖婷倩梅兰凤洁荣珍莉蓉春月丹翠云莲亮成文新利清飞波志海建国峰"
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
with open(path, "w", encoding="utf-8-sig") as f:
    f.write("姓名,小区,手机号码,身份证号码,出生年份,住址\n")
    for i in range(n):
        name = surnames[i % len(surnames)] + given[(i // len(surnames)) % len(given)] + given[(i // (len(surnames) * len(given))) % len(given)]
        year = rng.randint(1940, 2000)
        first17 = f"310107{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{i % 1000:03d}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]
        f.write(f"{name},音乐广场,139{i:08d},{first17}{check},{year},长寿路{i % 500 + 1}号\n")
PY

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; $N rows ($PROFILE build); in $DIR"
RUST_LOG=warn "$youde" demo --data-dir "$DIR/data" --media-dir "$DIR/media" >/dev/null

run() { # label
  local out="$DIR/time.txt" log="$DIR/out.txt"
  RUST_LOG=warn /usr/bin/time -v "$youde" import "$DIR/roster.csv" --commit \
    --data-dir "$DIR/data" --media-dir "$DIR/media" >"$log" 2>"$out" || { cat "$log" "$out"; exit 1; }
  local rss check commit
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$out")
  check=$(grep -o '问题 [0-9]*（[0-9.]* 秒' "$log" | grep -o '[0-9.]* 秒' | cut -d' ' -f1)
  commit=$(grep -o '已导入.*（[0-9.]* 秒' "$log" | grep -o '[0-9.]* 秒' | cut -d' ' -f1)
  printf '%-10s check %s s (%s rows/s), commit %s s (%s rows/s), peak memory %s MB\n' "$1" \
    "$check" "$(awk -v n="$N" -v s="$check" 'BEGIN {printf "%.0f", n / s}')" \
    "$commit" "$(awk -v n="$N" -v s="$commit" 'BEGIN {printf "%.0f", n / s}')" "$rss"
  head -1 "$log"
}
run "first"
run "again"
