# For the image-size benchmark only (scripts/bench/bench_containers.py): a single-stage image in the
# style of Streamlit's Docker tutorial (build tools, curl and git in the final image, pip and its
# cache kept), on the same Debian base and lock as the real image, to compare sizes.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008,DL3015
RUN apt-get update && apt-get install -y build-essential curl git python3 python3-pip python3-venv \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/app.txt requirements.txt
# hadolint ignore=DL3042
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && python3 -m venv /opt/venv && /opt/venv/bin/pip install --require-hashes -r requirements.txt
COPY app/ app/
COPY .streamlit/config.toml .streamlit/config.toml
EXPOSE 8501
HEALTHCHECK CMD ["curl", "--fail", "http://localhost:8501/_stcore/health"]
ENTRYPOINT ["/opt/venv/bin/streamlit", "run", "app/streamlit_app.py", "--server.port=8501", "--server.address=0.0.0.0"]
