# Build: the workspace in release mode.
FROM rust:1-bookworm AS build
WORKDIR /src
# The dependencies first, in a layer of their own: they change rarely, the source often. Empty
# crate roots stand in for the source while they build.
COPY Cargo.toml Cargo.lock build.rs ./
COPY migration/Cargo.toml migration/Cargo.toml
RUN mkdir -p src migration/src \
    && echo 'fn main() {}' > src/main.rs && touch src/lib.rs migration/src/lib.rs \
    && cargo build --release --locked --features pdf \
    && rm -rf src migration/src
# Then the source; touched, so that our crates and their build scripts (which list the modules
# and migrations) run again.
COPY . .
RUN touch src/main.rs src/lib.rs migration/src/lib.rs build.rs migration/build.rs \
    && cargo build --release --locked --features pdf && strip target/release/youde

# Run: a small Debian with the binary and the CJK font certificate PDFs embed (WenQuanYi Micro Hei,
# 5 MB; fonts-noto-cjk is preferred when present, YOUDE_CERT_FONT names any other).
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/youde youde && mkdir -p /var/lib/youde/data /var/lib/youde/media && chown -R youde /var/lib/youde
COPY --from=build /src/target/release/youde /usr/local/bin/youde
USER youde
WORKDIR /var/lib/youde
ENV YOUDE_BIND=0.0.0.0:8080 \
    YOUDE_DATA_DIR=/var/lib/youde/data \
    YOUDE_MEDIA_DIR=/var/lib/youde/media
EXPOSE 8080
# `youde healthcheck` asks /readyz on YOUDE_BIND and exits 0 only when it answers 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD ["youde", "healthcheck"]
ENTRYPOINT ["youde"]
CMD ["serve"]
