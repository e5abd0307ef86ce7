# The project's images: the one list that build-images.sh, stack.sh and push scripts read.
# Source it from bash; each tag can be overridden from the environment.
# shellcheck shell=bash
: "${APP_IMAGE:=sales-dashboard:dev}"
: "${PROXY_IMAGE:=sales-dashboard-proxy:dev}"
export APP_IMAGE PROXY_IMAGE
IMAGE_NAMES=(APP_IMAGE PROXY_IMAGE)
declare -A IMAGE_DOCKERFILES=([APP_IMAGE]=Dockerfile [PROXY_IMAGE]=deploy/proxy/Dockerfile)
