# remediate's image for Docker users: the same layout as `make image`
# (both use scripts/image-rootfs): /remediate, its shared libraries, the
# CA bundle and zone data, UID/GID 65532, no shell.
#
#   docker build -t remediate:$(cat VERSION) --build-arg VERSION=$(cat VERSION) .
FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --image && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make -j"$(nproc)" && scripts/image-rootfs build/remediate /rootfs

FROM scratch
ARG VERSION=0.0.0
ARG SOURCE=unknown
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /tmp
ENV PATH=/
ENTRYPOINT ["/remediate"]
CMD ["--help"]
LABEL org.opencontainers.image.title="remediate" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}"
