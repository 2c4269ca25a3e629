#!/usr/bin/env bash
# Certificate PDF benchmark: the time to render one certificate PDF and a batch of N (default
# 100) in a row, for a 荣誉证书 (A4 landscape) and a 志愿服务记录证明 (A4 portrait), each with the
# QR code and a seal, the CJK font subset into every file (examples/certificate_pdf.rs).
#
#   bench/certificates.sh                 # release build
#   PROFILE=debug N=20 bench/certificates.sh
#
# Needs a CJK font (fonts-noto-cjk or fonts-wqy-microhei, or YOUDE_CERT_FONT=path[#face]).
# Writes the last PDFs of the batch to a temporary folder and removes it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100}
PROFILE=${PROFILE:-release}
DIR=$(mktemp -d -t youde-pdf-bench-XXXXXX)
trap 'rm -rf "$DIR"' EXIT

if [ "$PROFILE" = release ]; then
  cargo build --release --quiet --features pdf --example certificate_pdf
else
  cargo build --quiet --features pdf --example certificate_pdf
fi
bin=${CARGO_TARGET_DIR:-target}/$PROFILE/examples/certificate_pdf
echo "== $PROFILE build, $(nproc) cores"
"$bin" "$N" "$DIR"
ls -l "$DIR"
