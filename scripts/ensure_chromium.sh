#!/usr/bin/env bash
# Makes Debian's Chromium available for the dashboard's browser tests (Playwright drives
# /usr/bin/chromium; never a browser download), with a small Chinese font so that the
# zh-CN pages' screenshots show characters rather than boxes. Installs what is missing with
# apt-get, running `apt-get update` only if the first try fails. Fails (exit 1) when CI=true
# and Chromium cannot be had; otherwise warns, and the browser tests skip.
set -u
browser=${FUNDLEDGER_CHROMIUM:-/usr/bin/chromium}
font=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
[ -x "$browser" ] && [ -e "$font" ] && exit 0

log=${TMPDIR:-/tmp}/ensure_chromium.log
sudo_cmd=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo -n"; fi
install() {
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q chromium fonts-wqy-microhei >>"$log" 2>&1
}
if command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium and fonts-wqy-microhei with apt-get (log: $log) …" >&2
  : >"$log"
  install || { DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get update -q >>"$log" 2>&1 && install; }
fi
[ -x "$browser" ] && exit 0

echo "Chromium is not available at $browser (see $log)" >&2
if [ "${CI:-}" = "true" ]; then exit 1; fi
exit 0
