#!/bin/bash
# Docker HEALTHCHECK without curl: one HTTP request to the proxy's own /healthz over bash's
# /dev/tcp; healthy when nginx answers 200.
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 2 status <&3
[[ $status == "HTTP/1.1 200"* ]]
