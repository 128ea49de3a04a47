#!/usr/bin/env bash
# The system programs some tests need, and what to do when they are missing.
#
#   tools/system_deps.sh browser   Chromium and chromedriver (make test-browser)
#   tools/system_deps.sh tex       pdflatex and latexmk (make pdf, make test-pdf)
#
# Exit 0: the programs are here (installed now with Debian's apt-get if this machine can: root, or
# passwordless sudo). Exit 3: they are missing and cannot be installed here; the message says what
# is missing and how to get it, and the caller skips that part of the tests with a visible message.
# With CONTRACTION_REQUIRE_ALL=1 (set by .ci/run) a missing program is exit 1 instead: CI must run
# every part. Any other failure (apt-get itself failing) is exit 1.
set -uo pipefail

what=${1:?usage: tools/system_deps.sh browser|tex}
case $what in
  browser)
    programs=("chromium|chromium-browser|google-chrome" "chromedriver")
    debian=(chromium chromium-driver)
    manual="Debian/Ubuntu: sudo apt-get install chromium chromium-driver
  macOS (Homebrew): brew install --cask chromium && brew install --cask chromedriver
  anywhere: put a Chromium or Chrome binary and the chromedriver of the same version on PATH
  (named chromium or google-chrome, and chromedriver)"
    part="the browser test (make test-browser)" ;;
  tex)
    programs=("pdflatex" "latexmk")
    # (texlive-fonts-extra, 500 MB, is not needed: the book builds without it)
    debian=(texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended
            tex-gyre lmodern latexmk)
    manual="Debian/Ubuntu: sudo apt-get install ${debian[*]}
  macOS: install MacTeX (it has pdflatex and latexmk)
  anywhere: a TeX Live with pdflatex and latexmk on PATH"
    part="the PDF build and its test (make pdf, make test-pdf)" ;;
  *) echo "tools/system_deps.sh: unknown part '$what' (browser or tex)" >&2; exit 2 ;;
esac

missing() {
  local out=() alternatives name found
  for alternatives in "${programs[@]}"; do
    found=
    IFS='|' read -ra names <<<"$alternatives"
    for name in "${names[@]}"; do command -v "$name" >/dev/null && found=1 && break; done
    [ -n "$found" ] || out+=("${names[0]}")
  done
  echo "${out[*]-}"
}

gone=$(missing)
[ -z "$gone" ] && exit 0

# Install with apt where this machine allows it.
if command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else sudo=none; fi
  if [ "${sudo[*]}" != none ]; then
    echo "installing Debian packages for $part: ${debian[*]}"
    "${sudo[@]}" apt-get update -qq &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${debian[@]}" >/dev/null || { echo "apt-get failed while installing ${debian[*]}" >&2; exit 1; }
    gone=$(missing)
    [ -z "$gone" ] && exit 0
    echo "still missing after apt-get: $gone" >&2
    exit 1
  fi
  why="apt-get needs root or passwordless sudo, and this user has neither"
else
  why="this machine has no apt-get"
fi

cat >&2 <<EOF

*** Missing for $part: $gone
*** ($why.) To get them:
  $manual
EOF
if [ "${CONTRACTION_REQUIRE_ALL:-0}" = 1 ]; then
  echo "*** CONTRACTION_REQUIRE_ALL=1: every part of the tests must run, so this is an error." >&2
  exit 1
fi
exit 3
