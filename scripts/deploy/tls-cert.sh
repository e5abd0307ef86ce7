#!/usr/bin/env bash
# Prints the proxy's TLS certificate and key files, one a line (certificate first):
#   - TLS_CERT_FILE and TLS_KEY_FILE when set (your own certificate: both, readable files);
#   - else a certificate for localhost, 127.0.0.1 and ::1 from a local CA, both made with openssl
#     in LOCAL_TLS_DIR (default deploy/secrets/local-tls, git-ignored) when missing, expiring
#     within 30 days or not signed by that CA. The CA's path goes to stderr: trust it in your
#     browser (or `curl --cacert`, `STACK_CA_FILE` for the project's clients).
# The local CA can sign only for localhost and loopback addresses (X.509 name constraints), so
# trusting it does not let its key vouch for any other site.
# Used by scripts/deploy/stack.sh (compose secrets) and scripts/deploy/swarm.sh (Swarm secrets).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -n "${TLS_CERT_FILE:-}${TLS_KEY_FILE:-}" ]; then
  for var in TLS_CERT_FILE TLS_KEY_FILE; do
    [ -n "${!var:-}" ] || { echo "tls: $var is not set (give TLS_CERT_FILE and TLS_KEY_FILE together)" >&2; exit 64; }
    [ -f "${!var}" ] && [ -r "${!var}" ] || { echo "tls: $var=${!var} is not a readable file" >&2; exit 64; }
  done
  realpath "$TLS_CERT_FILE"
  realpath "$TLS_KEY_FILE"
  exit 0
fi

# openssl makes the local CA and certificate (Debian's package, installed when missing).
command -v openssl >/dev/null || scripts/setup/apt-install.sh openssl || {
  echo "tls: openssl is needed to make the local certificate; or set TLS_CERT_FILE and TLS_KEY_FILE" >&2
  exit 64
}
dir=${LOCAL_TLS_DIR:-$PWD/deploy/secrets/local-tls}
mkdir -p "$dir"
chmod 700 "$dir"
dir=$(realpath "$dir")
exec 9>"$dir/.lock"
flock 9  # stacks started at once share one CA

renew=2592000  # 30 days: a certificate closer to its end is made again
if ! openssl x509 -in "$dir/ca.pem" -noout -checkend "$renew" >/dev/null 2>&1 || [ ! -s "$dir/ca.key" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/O=streamlit-serving local development CA/CN=local CA $(hostname)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "nameConstraints=critical,permitted;DNS:localhost,permitted;IP:127.0.0.0/255.0.0.0,permitted;IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" \
    2>/dev/null
  chmod 600 "$dir/ca.key"
  rm -f "$dir/cert.pem"
  echo "tls: made a local CA in $dir/ca.pem" >&2
fi
if ! openssl x509 -in "$dir/cert.pem" -noout -checkend "$renew" >/dev/null 2>&1 \
  || ! openssl verify -CAfile "$dir/ca.pem" "$dir/cert.pem" >/dev/null 2>&1 || [ ! -s "$dir/key.pem" ]; then
  # 397 days: within what browsers accept for a server certificate.
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/key.pem" \
    -subj "/CN=localhost" 2>/dev/null \
    | openssl x509 -req -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -sha256 -days 397 \
      -out "$dir/cert.pem" -extfile <(printf '%s\n' \
        "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" \
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
        "authorityKeyIdentifier=keyid") 2>/dev/null
  # Readable by the proxy's UID inside the container (a compose bind mount keeps host
  # permissions); the directory stays private to this user.
  chmod 644 "$dir/key.pem"
  echo "tls: made a certificate for localhost, 127.0.0.1 and ::1 in $dir/cert.pem" >&2
fi
echo "tls: local CA (trust it to open the https URL without a warning): $dir/ca.pem" >&2
echo "$dir/cert.pem"
echo "$dir/key.pem"
