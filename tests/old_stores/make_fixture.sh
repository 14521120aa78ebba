#!/usr/bin/env bash
# Writes tests/old_stores/<TAG>/: a small store written by the code of release TAG, in SQLite and
# as a PostgreSQL dump of the same history, with the digest and public key that check it.
#
#   bash tests/old_stores/make_fixture.sh v0.1.0
#
# Needs git, python3 (3.11+), and PostgreSQL at $FIXTURE_POSTGRES (psql, pg_dump on PATH).
# The tag's own code runs in its own worktree and venv: the fixture holds events exactly as
# that release wrote them. docs/upgrading.md says when to run this.
set -euo pipefail

tag=${1:?usage: make_fixture.sh TAG}
postgres=${FIXTURE_POSTGRES:-postgresql://postgres@127.0.0.1:5432}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
out=$here/$tag
work=$(mktemp -d)
database=fundledger_fixture_$$
schema=fundledger_old_store  # replaced by each test's own schema on restore

cleanup() {
    git -C "$repo" worktree remove --force "$work/src" >/dev/null 2>&1 || true
    psql -q "$postgres/postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

git -C "$repo" worktree add --quiet --detach "$work/src" "$tag"
python3 -m venv "$work/venv"
if [ -f "$work/src/requirements.lock" ]; then  # releases after v0.1.0 carry a hash-checked lock
    "$work/venv/bin/pip" install --quiet --require-hashes --no-deps -r "$work/src/requirements.lock"
    "$work/venv/bin/pip" install --quiet --no-deps --no-build-isolation -e "$work/src"
else  # v0.1.0 had no lock: what PyPI offered then (written-by.txt lists what was installed)
    "$work/venv/bin/pip" install --quiet -e "$work/src"
fi

rm -rf "$out" && mkdir -p "$out" "$work/out"
cd "$work/src"
"$work/venv/bin/python" "$here/write_store.py" "$work/out" "sqlite:///$work/out/store.sqlite"
psql -q "$postgres/postgres" -c "CREATE DATABASE $database"
psql -q "$postgres/$database" -c "CREATE SCHEMA $schema"
"$work/venv/bin/python" "$here/write_store.py" "$work/out" "$postgres/$database" "$schema" \
    "$work/out/store.sqlite"
pg_dump --no-owner --no-privileges --schema="$schema" "$postgres/$database" \
    | grep -v '^\\\(un\)\?restrict ' > "$work/out/store.postgres.sql"

gzip -9 -n -c "$work/out/store.sqlite" > "$out/store.sqlite.gz"
gzip -9 -n -c "$work/out/store.postgres.sql" > "$out/store.postgres.sql.gz"
cp "$work/out/digest.json" "$work/out/signing-key.pub.pem" "$work/out/facts.json" "$out/"
{
    echo "# written by: bash tests/old_stores/make_fixture.sh $tag"
    echo "# tag $tag = commit $(git -C "$work/src" rev-parse HEAD), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# $("$work/venv/bin/python" --version), $(pg_dump --version)"
    "$work/venv/bin/pip" freeze --exclude-editable
} > "$out/written-by.txt"
echo "wrote $out:"
ls -l "$out"
