# Build: the workspace in release mode.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/youde

# Run: a small Debian with the binary only.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/youde youde && mkdir -p /var/lib/youde/data /var/lib/youde/media && chown -R youde /var/lib/youde
COPY --from=build /src/target/release/youde /usr/local/bin/youde
USER youde
WORKDIR /var/lib/youde
ENV YOUDE_BIND=0.0.0.0:8080 \
    YOUDE_DATA_DIR=/var/lib/youde/data \
    YOUDE_MEDIA_DIR=/var/lib/youde/media
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 || exit 1"]
ENTRYPOINT ["youde"]
CMD ["serve"]
