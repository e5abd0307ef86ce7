# The app image. Multi-stage: a builder makes the venv from the hashed lock; the runtime
# stage gets Debian's python3, the venv and the app — no compiler, pip or curl.
# Build: DOCKER_BUILDKIT=1 docker build -t NAME .   (the app in app/; make images names it, app_settings.py)
#   another app: APP_DIR=path/to/app scripts/deploy/stage-app.sh (prints APP_MAIN), then add
#   --build-arg APP_DIR=build/app-src --build-arg APP_MAIN=<it>; or just: make images APP_DIR=...
#   behind a TLS-inspecting proxy add: --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt

# Debian stable slim; the same name whether pulled from a registry or made by scripts/deploy/base-image.sh.
ARG BASE_IMAGE=debian:bookworm-slim
# checkov:skip=CKV_DOCKER_7: the tag is in BASE_IMAGE's default above (bookworm-slim, not latest); checkov cannot follow the ARG

FROM ${BASE_IMAGE} AS builder
# Which app (streamlit_serving/app_source.py is their home): its directory in the build context
# (scripts/deploy/stage-app.sh stages any APP_DIR at build/app-src) and its main script, relative to it.
ARG APP_DIR=app
# The installer and the app's packages.txt alone (the [t] glob matches nothing when it has none),
# so the apt layer is rebuilt only when the list changes, not with every change of the app's code.
COPY deploy/app/apt-install.sh ${APP_DIR}/packages.tx[t] /tmp/packages/
# Debian's python3 (security-updated by Debian) and venv, plus the app's packages.txt, which a
# wheel may need to build (a name the archive lacks stops the build naming it); no apt lists kept.
# Then the venv the app's requirements go into.
RUN sh /tmp/packages/apt-install.sh python3 python3-venv \
 && python3 -m venv /opt/venv
# Dependencies before the source, so code changes reuse this layer: the app's own hashed lock
# (make lock APP_DIR=...; the [k] glob matches nothing when it has none), else the example's.
COPY requirements/app.txt ${APP_DIR}/requirements.loc[k] /tmp/requirements/
# The CA bundle is a BuildKit secret: mounted for this step only, never in a layer or build arg.
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && lock=/tmp/requirements/requirements.lock && { [ -f "$lock" ] || lock=/tmp/requirements/app.txt; } \
 && /opt/venv/bin/pip install --disable-pip-version-check --require-hashes --no-compile -r "$lock" \
 && /opt/venv/bin/pip uninstall -y -q pip setuptools \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +
# Parts of the wheels this app never loads (~105 MB; docs/benchmarks.md has the figures): test
# suites and C headers; pyarrow's Flight and S3 libraries (pyarrow.fs imports S3 only if present);
# plotly's JavaScript bundles for HTML export and Jupyter (the Streamlit frontend brings its own).
# tests/container checks that the app, pyarrow's Parquet reader and plotly still work.
# (cd into a glob: the python3.X directory follows the base image's Debian release.)
# hadolint ignore=DL3003
RUN cd /opt/venv/lib/python3*/site-packages \
 && rm -rf pandas/tests numpy/*/tests numpy/tests pyarrow/tests pyarrow/include pyarrow/src \
           pyarrow/*flight* pyarrow/libarrow_s3.so* pyarrow/_s3fs.* pyarrow/_pyarrow_cpp_tests.* \
           plotly/package_data/plotly.min.js plotly/package_data/widgetbundle.js plotly/labextension

FROM ${BASE_IMAGE} AS runtime
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/your-org/your-repo
LABEL org.opencontainers.image.description="A Streamlit app behind the serving layer (streamlit_serving)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# The same installer and app packages.txt as the builder's (only these files: the layer below
# stays cached while the app's code changes).
ARG APP_DIR=app
COPY deploy/app/apt-install.sh ${APP_DIR}/packages.tx[t] /tmp/packages/
# Only the interpreter at runtime (no pip, compilers or curl) and the app's packages.txt, which
# it loads (libgomp1, ffmpeg, ...); apt's lists removed; then the app's non-root user.
# /srv/data: where the stacks mount the app's data volume when asked (SERVE_DATA_DIR; make up
# APP_DATA=1): owned by the app's user, so a new named volume mounted there takes that owner.
RUN sh /tmp/packages/apt-install.sh python3 \
 && groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app \
 && install -d -o 10001 -g 10001 -m 0750 /srv/data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv/app
# The template's defaults an app may change, beside the serving layer, which passes each as a flag
# unless the app's own config.toml sets it (the pinned options too: streamlit_serving/pinned.py).
COPY .streamlit/config.toml .streamlit/config.toml
# The serving layer (any app's production parts), then the app it serves.
COPY streamlit_serving/ streamlit_serving/
# The app itself (APP_DIR and APP_MAIN: see the builder stage), after the layer.
ARG APP_MAIN=streamlit_app.py
COPY ${APP_DIR}/ app/
# A main script the copy lacks fails the build here, naming it, not the first start.
RUN test -f "app/${APP_MAIN}" || { echo "APP_MAIN=${APP_MAIN} is not a file in APP_DIR=${APP_DIR}" >&2; exit 64; }
COPY deploy/app/entrypoint.sh /usr/local/bin/app-entrypoint
# The app's root is the working directory, as on Community Cloud: relative paths from it work
# (pd.read_csv("data/x.csv")), and Streamlit reads the app's .streamlit/config.toml there. The
# serving layer stays importable from /srv/app (PYTHONPATH), the app's modules from its directory.
WORKDIR /srv/app/app
# HOME on a tmpfs-able path: Streamlit writes ~/.streamlit at start; the root filesystem stays read-only.
# APP_MAIN stays in the environment: the entrypoint runs $APP_MAIN, relative to the app's root.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/srv/app \
    APP_MAIN=${APP_MAIN} \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8501
# Python's urllib instead of curl: the health endpoint answers 200 "ok" once the server is up;
# a 5 s timeout so a busy replica is not reported unhealthy (Swarm and Kubernetes would kill it).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]
# Streamlit shuts down cleanly on SIGTERM.
STOPSIGNAL SIGTERM
# app-entrypoint reads the cookie secret file, then execs the serving layer on $APP_MAIN
# (Streamlit's CLI after a settings check, with TCP_NODELAY on its sockets) as PID 1. Arguments
# after the image name are passed on as extra Streamlit options (e.g. --server.baseUrlPath=dashboard).
# No welcome banner: its URLs are the container's own (the proxy's is the one to open), and to print
# it a headless Streamlit asks checkip.amazonaws.com for the host's address while its event loop
# waits: where DNS finds no upstream (a network without egress) the replica answered nothing,
# not even its health check, for ~20 s after it started.
ENTRYPOINT ["app-entrypoint", "--server.address=0.0.0.0", "--server.port=8501", "--logger.hideWelcomeMessage=true"]
# The app's name (its serving.toml, else its directory's: scripts/deploy/build-images.sh and the workflow
# pass it), last: a label, declared after every RUN so that no layer's cache depends on it.
ARG APP_NAME=app
LABEL org.opencontainers.image.title="${APP_NAME}"

