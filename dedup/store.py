"""The index's storage: the schema and every SQL statement, for SQLite and PostgreSQL.

:class:`SqlStore` is the only code of dedup that speaks SQL. It knows tables,
rows and transactions, nothing of the maths: :class:`dedup.index.Index` calls
its methods and hands every value it reads to the stage functions.

Tables (one row per article unless said):

``meta(key, value)``
    ``schema_version``, ``params`` (JSON of :meth:`Params.matching`), ``n_docs``
    (articles counted in the document frequencies), ``next_seq``, ``version``
    (raised by every write transaction: caches of other processes notice it).
``articles(seq, id, published, day, outlet, title, url, text, extra, exact_key,
signature, shingles, figures, terms, windows, counted, topk, first_copy, passages,
passage_positions, family)``
    ``seq`` is never reused; ``day`` is the publication time in float days (NULL:
    undated); the prints are the bytes of numpy arrays (``windows``: the term counts of the
    windows of a long article); ``counted`` whether the
    article is its close-copy group's representative in ``df``; ``topk`` its
    best same-story cosines (float32, ``story_neighbours`` per row: the whole
    text, then each window; ``-inf`` where fewer); ``first_copy``
    whether it has the lowest id among the articles of its exact text (a scan's
    distinct text, the one the same-story search compares); ``passages`` and
    ``passage_positions`` its winnowed fingerprints; ``family`` its copy family
    (texts joined by close LSH links, :func:`dedup.link.families_for_df`).
``passages(key, seq)``
    One row per passage fingerprint of an article (primary key ``(key, seq)``).
``family_df(kind, key, count)``, ``family_df_recent(kind, key, count)``
    How many copy families hold a shingle (``kind`` 0) or a passage fingerprint (1): the sum of
    the two tables' counts (absent: 0). SQLite writes add their changes to the small ``family_df_recent``
    (rows may be negative or 0); when it holds more than an eighth of ``family_df``'s rows it is
    merged into ``family_df`` in key order (inside the same write transaction) and emptied. So a
    batch's random B-tree writes land in a small table, and the big one is rewritten once per
    merge instead of once per batch (one upserted row per shingle of every new text otherwise).
    PostgreSQL writes go to ``family_df`` directly (its MVCC makes the merge cost more than it saves:
    the first 6,000 Reuters stories took 74 s with the merge and 42 s without, on a loaded machine).
``bands(band, key, seq)``
    LSH band keys (one row per article and band), primary key ``(band, key, seq)``.
``df(term, count)``
    Document frequencies of the counted articles.
``links(a, b, relation, tier, shared, jaccard, c_ab, c_ba, cosine)``
    Verified links by ``seq`` (``a`` the lower article id; ``c_ab`` the
    containment of ``a`` in ``b``); ``tier`` 0 for links of the verbatim tier
    (exact, LSH), 1 for links found by the same-story search, 2 for links found by
    passage fingerprints or long runs, 3 for close LSH pairs the evidence rejected
    (not reported: they only join copy families, as in a scan).

SQLite runs in WAL mode with a busy timeout and ``synchronous=FULL``; every
write is one ``BEGIN IMMEDIATE`` transaction. PostgreSQL writers take one
transaction-level advisory lock, so writes are serialised as in SQLite; reads
run in ``REPEATABLE READ`` snapshots.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["SCHEMA_VERSION", "SqlStore", "StoreError", "open_store"]

SCHEMA_VERSION = 4
_APPLICATION_ID = 0x64656475  # "dedu": SQLite header field, marks the file as a dedup index
_LOCK_KEY = 0x6465647570  # PostgreSQL advisory lock of writers
_CHUNK = 900  # rows of parameters per statement (portable limit)
_MERGE_MIN = 250_000  # rows of family_df_recent before it may be merged into family_df
_MERGE_RATIO = 8  # ... and it must hold more than 1/8 of family_df's rows

ARTICLE_COLUMNS = (
    "seq", "id", "published", "day", "outlet", "title", "url", "text", "extra", "exact_key", "signature",
    "shingles", "figures", "terms", "windows", "counted", "topk", "passages", "passage_positions", "family",
)
LINK_COLUMNS = ("a", "b", "relation", "tier", "shared", "jaccard", "c_ab", "c_ba", "cosine")


class StoreError(RuntimeError):
    """The index cannot be opened or used (damaged, foreign, different parameters)."""


def _schema(blob: str, real: str, bigint: str, rowid: str) -> list[str]:
    return [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"""CREATE TABLE articles (
            seq {bigint} PRIMARY KEY, id TEXT NOT NULL UNIQUE, published TEXT, day {real},
            outlet TEXT, title TEXT, url TEXT, text TEXT NOT NULL, extra TEXT,
            exact_key {blob} NOT NULL, signature {blob} NOT NULL, shingles {blob} NOT NULL,
            figures {blob} NOT NULL, terms {blob}, windows {blob}, counted SMALLINT NOT NULL, topk {blob} NOT NULL,
            first_copy SMALLINT NOT NULL DEFAULT 1, passages {blob} NOT NULL, passage_positions {blob} NOT NULL,
            family {bigint} NOT NULL)""",
        "CREATE INDEX articles_exact_key ON articles (exact_key)",
        "CREATE INDEX articles_family ON articles (family)",
        "CREATE INDEX articles_day ON articles (day)",
        f"""CREATE TABLE bands (band SMALLINT NOT NULL, key {bigint} NOT NULL, seq {bigint} NOT NULL,
            PRIMARY KEY (band, key, seq)){rowid}""",
        f"CREATE TABLE df (term {bigint} PRIMARY KEY, count {bigint} NOT NULL)",
        f"""CREATE TABLE links (
            a {bigint} NOT NULL, b {bigint} NOT NULL, relation SMALLINT NOT NULL, tier SMALLINT NOT NULL,
            shared {bigint} NOT NULL, jaccard {real} NOT NULL, c_ab {real} NOT NULL, c_ba {real} NOT NULL,
            cosine {real} NOT NULL, PRIMARY KEY (a, b))""",
        "CREATE INDEX links_b ON links (b)",
        f"CREATE TABLE passages (key {bigint} NOT NULL, seq {bigint} NOT NULL, PRIMARY KEY (key, seq)){rowid}",
        f"""CREATE TABLE family_df (kind SMALLINT NOT NULL, key {bigint} NOT NULL, count {bigint} NOT NULL,
            PRIMARY KEY (kind, key)){rowid}""",
        f"""CREATE TABLE family_df_recent (kind SMALLINT NOT NULL, key {bigint} NOT NULL,
            count {bigint} NOT NULL, PRIMARY KEY (kind, key)){rowid}""",
    ]


class SqlStore:
    """One connection to an index database, in one of two dialects."""

    def __init__(self, connection: Any, dialect: str, where: str) -> None:
        self.connection = connection
        self.dialect = dialect
        self.where = where
        self._mark = "?" if dialect == "sqlite" else "%s"
        self.family_merge_min = _MERGE_MIN  # rows of family_df_recent before a merge may happen

    # ------------------------------------------------------------------ plumbing

    def _sql(self, statement: str) -> str:
        return statement if self.dialect == "sqlite" else statement.replace("?", "%s")

    def _rows(self, statement: str, values: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        with self._damage():
            cursor.execute(self._sql(statement), tuple(values))
        if cursor.description is None:  # a statement without a result (DELETE)
            return []
        rows = cursor.fetchall()
        if self.dialect == "sqlite":
            return rows
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]

    def _run(self, statement: str, values: Sequence[Any] = ()) -> None:
        with self._damage():
            self.connection.cursor().execute(self._sql(statement), tuple(values))

    def _many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._damage():
                self.connection.cursor().executemany(self._sql(statement), rows)

    def _bulk(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows: PostgreSQL's COPY, SQLite's executemany."""
        if not rows:
            return
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
            self._many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            return
        with self.connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @contextlib.contextmanager
    def _damage(self) -> Iterator[None]:
        """SQLite's "malformed" and "not a database" errors as a clear :class:`StoreError`."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # locked, constraint, ...: not damage
                raise
            raise StoreError(f"the index {self.where} is damaged ({exc}); nothing was changed. Restore it from "
                             "a backup or rebuild it (dedup index add)") from None

    def _in(self, statement: str, values: Sequence[Any], per_row: int = 1) -> list[tuple[Any, ...]]:
        """``statement`` with ``{in}`` replaced by a placeholder list, run in chunks."""
        if self.dialect != "sqlite":  # one array parameter
            return self._rows(statement.replace("IN ({in})", "= ANY(?)"), [list(values)]) if values else []
        out: list[tuple[Any, ...]] = []
        step = max(1, _CHUNK // per_row)
        for start in range(0, len(values), step):
            part = values[start : start + step]
            marks = ",".join("?" for _ in part)
            out.extend(self._rows(statement.replace("{in}", marks), part))
        return out

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction over every table (serialised with other writers)."""
        if self.dialect == "sqlite":
            self._run("BEGIN IMMEDIATE")
        else:
            self._run("BEGIN")
            self._run("SELECT pg_advisory_xact_lock(?)", (_LOCK_KEY,))
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self._run("ROLLBACK")
            raise
        self._run("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        """One consistent snapshot for a query."""
        self._run("BEGIN" if self.dialect == "sqlite" else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            self._run("COMMIT")

    def close(self) -> None:
        self.connection.close()

    # ------------------------------------------------------------------ schema and meta

    def prepare(self, matching: dict[str, Any]) -> dict[str, Any]:
        """Create the schema in an empty database, or check an existing one.

        Returns the stored matching parameters. Raises :class:`StoreError` for a
        foreign database, another schema version, or other parameters.
        """
        with self.write():
            tables = self.tables()
            if not tables:
                blob, real, bigint, rowid = ("BLOB", "REAL", "INTEGER", " WITHOUT ROWID") \
                    if self.dialect == "sqlite" else ("BYTEA", "DOUBLE PRECISION", "BIGINT", "")
                for statement in _schema(blob, real, bigint, rowid):
                    self._run(statement)
                meta = {"schema_version": str(SCHEMA_VERSION), "params": json.dumps(matching, sort_keys=True),
                        "n_docs": "0", "next_seq": "1", "version": "0", "family_rows": "0",
                        "family_recent_rows": "0"}
                self._many("INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items()))
                if self.dialect == "sqlite":
                    self._run(f"PRAGMA application_id = {_APPLICATION_ID}")
                return matching
            if "meta" not in tables or "articles" not in tables:
                raise StoreError(f"{self.where} is not a dedup index (it holds other tables: "
                                 f"{', '.join(sorted(tables)[:8])}); give a new path or an index made by dedup")
            meta = dict(self._rows("SELECT key, value FROM meta"))
            version = meta.get("schema_version")
            if version != str(SCHEMA_VERSION):
                raise StoreError(f"{self.where} has index schema version {version}, this dedup reads version "
                                 f"{SCHEMA_VERSION}: rebuild the index with this version (dedup index add)")
            return dict(json.loads(meta["params"]))

    def tables(self) -> set[str]:
        if self.dialect == "sqlite":
            rows = self._rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = self._rows("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {str(r[0]) for r in rows}

    def meta(self) -> dict[str, str]:
        return dict(self._rows("SELECT key, value FROM meta"))

    def set_meta(self, values: dict[str, str]) -> None:
        self._many("UPDATE meta SET value = ? WHERE key = ?", [(v, k) for k, v in values.items()])

    # ------------------------------------------------------------------ articles

    def insert_articles(self, rows: Sequence[Sequence[Any]]) -> None:
        self._bulk("articles", ARTICLE_COLUMNS, rows)

    def delete_articles(self, seqs: Sequence[int]) -> None:
        self._in("DELETE FROM articles WHERE seq IN ({in})", list(seqs))
        self._in("DELETE FROM links WHERE a IN ({in})", list(seqs))
        self._in("DELETE FROM links WHERE b IN ({in})", list(seqs))

    def articles(self, seqs: Sequence[int], columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """Rows ``(seq, *columns)`` of these articles (any order)."""
        return self._in(f"SELECT seq, {', '.join(columns)} FROM articles WHERE seq IN ({{in}})", list(seqs))

    def seqs_of_ids(self, ids: Sequence[str]) -> dict[str, int]:
        return {str(i): int(s) for i, s in self._in("SELECT id, seq FROM articles WHERE id IN ({in})", list(ids))}

    def by_id(self, article_id: str, columns: Sequence[str]) -> tuple[Any, ...] | None:
        rows = self._rows(f"SELECT {', '.join(columns)} FROM articles WHERE id = ?", (article_id,))
        return rows[0] if rows else None

    def ids_before(self, day: float) -> list[str]:
        return [str(r[0]) for r in self._rows("SELECT id FROM articles WHERE day < ? ORDER BY id", (day,))]

    def iter_ids(self) -> list[str]:
        return [str(r[0]) for r in self._rows("SELECT id FROM articles ORDER BY id")]

    def count(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM articles")[0][0])

    def exact_candidates(self, keys: Sequence[bytes]) -> list[tuple[int, bytes]]:
        """``(seq, exact_key)`` of the stored articles with one of these normalised-text keys."""
        return [(int(s), bytes(k)) for s, k in
                self._in("SELECT seq, exact_key FROM articles WHERE exact_key IN ({in})", list(keys))]

    def window(self, low: float | None, high: float | None) -> list[tuple[int, str, bytes, float | None]]:
        """``(seq, id, exact_key, day)`` of the first copies of each text dated in ``[low, high]``
        and the undated ones (all of them when ``low`` is None)."""
        columns = "seq, id, exact_key, day"
        if low is None or high is None:
            rows = self._rows(f"SELECT {columns} FROM articles WHERE first_copy = 1")
        else:
            rows = self._rows(f"SELECT {columns} FROM articles WHERE first_copy = 1 AND "
                              "(day BETWEEN ? AND ? OR day IS NULL)", (low, high))
        return rows

    def first_copies(self, keys: Sequence[bytes] | None = None) -> list[tuple[int, str, bytes, float | None, Any]]:
        """``(seq, id, exact_key, day, terms)`` of the first copy of every text (of these texts)."""
        columns = "SELECT seq, id, exact_key, day, terms FROM articles WHERE first_copy = 1"
        rows = self._rows(columns + " ORDER BY seq") if keys is None else self._in(
            columns + " AND exact_key IN ({in})", list(keys))
        return [(int(r[0]), str(r[1]), bytes(r[2]), r[3], r[4]) for r in rows]

    def renumber_copies(self, keys: Sequence[bytes]) -> None:
        """Mark the lowest id of each of these exact texts as its first copy."""
        if self.dialect != "sqlite":
            if keys:
                self._run("UPDATE articles SET first_copy = CASE WHEN articles.id = m.low THEN 1 ELSE 0 END "
                          "FROM (SELECT exact_key, MIN(id) AS low FROM articles WHERE exact_key = ANY(?) "
                          "GROUP BY exact_key) AS m WHERE articles.exact_key = m.exact_key AND "
                          "articles.first_copy <> CASE WHEN articles.id = m.low THEN 1 ELSE 0 END", [list(keys)])
            return
        self._many("UPDATE articles SET first_copy = CASE WHEN id = (SELECT MIN(id) FROM articles "
                   "WHERE exact_key = ?) THEN 1 ELSE 0 END WHERE exact_key = ?", [(k, k) for k in keys])

    def topk(self, seqs: Sequence[int]) -> dict[int, bytes]:
        return {int(s): bytes(t) for s, t in self._in("SELECT seq, topk FROM articles WHERE seq IN ({in})", list(seqs))}

    def set_counted(self, changes: Sequence[tuple[int, int]]) -> None:
        self._update("counted", "smallint", changes)

    def set_topk(self, changes: Sequence[tuple[int, bytes]]) -> None:
        self._update("topk", "bytea", changes)

    def _update(self, column: str, kind: str, changes: Sequence[tuple[int, Any]]) -> None:
        """Set one column of many articles (``(seq, value)`` pairs)."""
        if not changes:
            return
        if self.dialect == "sqlite":
            self._many(f"UPDATE articles SET {column} = ? WHERE seq = ?", [(value, seq) for seq, value in changes])
            return
        self._run(f"UPDATE articles SET {column} = u.value FROM unnest(?::bigint[], ?::{kind}[]) AS u(seq, value) "
                  "WHERE articles.seq = u.seq", [[seq for seq, _ in changes], [value for _, value in changes]])

    # ------------------------------------------------------------------ bands

    def insert_bands(self, rows: Sequence[tuple[int, int, int]]) -> None:
        self._bulk("bands", ("band", "key", "seq"), rows)

    def delete_bands(self, rows: Sequence[tuple[int, int, int]]) -> None:
        self._many("DELETE FROM bands WHERE band = ? AND key = ? AND seq = ?", rows)

    def band_candidates(self, keys: Sequence[tuple[int, int]]) -> list[int]:
        """Seqs of stored articles sharing some ``(band, key)`` (SQL equality on both columns)."""
        if self.dialect != "sqlite":
            if not keys:
                return []
            rows = self._rows("SELECT DISTINCT bands.seq FROM unnest(?::smallint[], ?::bigint[]) AS probe(band, key) "
                              "JOIN bands ON bands.band = probe.band AND bands.key = probe.key",
                              [[k[0] for k in keys], [k[1] for k in keys]])
            return sorted(int(r[0]) for r in rows)
        found: set[int] = set()
        step = _CHUNK // 2
        for start in range(0, len(keys), step):
            part = keys[start : start + step]
            values = ", ".join("(?, ?)" for _ in part)
            statement = (f"WITH probe(band, key) AS (VALUES {values}) SELECT DISTINCT bands.seq FROM probe "
                         "JOIN bands ON bands.band = probe.band AND bands.key = probe.key")
            found.update(int(r[0]) for r in self._rows(statement, [v for pair in part for v in pair]))
        return sorted(found)

    # ------------------------------------------------------------------ document frequencies

    def df(self) -> list[tuple[int, int]]:
        return [(int(t), int(c)) for t, c in self._rows("SELECT term, count FROM df WHERE count <> 0")]

    def add_df(self, deltas: Sequence[tuple[int, int]]) -> None:
        upsert = " ON CONFLICT (term) DO UPDATE SET count = df.count + excluded.count"
        if self.dialect == "sqlite":
            self._many("INSERT INTO df (term, count) VALUES (?, ?)" + upsert, deltas)
        elif deltas:
            self._run("CREATE TEMP TABLE IF NOT EXISTS df_delta (term BIGINT, count BIGINT) ON COMMIT DELETE ROWS")
            self._bulk("df_delta", ("term", "count"), deltas)
            self._run("INSERT INTO df (term, count) SELECT term, count FROM df_delta" + upsert)
            self._run("DELETE FROM df_delta")
        emptied = [term for term, delta in deltas if delta < 0]
        if emptied:
            self._in("DELETE FROM df WHERE count = 0 AND term IN ({in})", emptied)

    # ------------------------------------------------------------------ links

    def insert_links(self, rows: Sequence[Sequence[Any]]) -> None:
        """New links (each pair once: every new link touches an article of this transaction)."""
        self._bulk("links", LINK_COLUMNS, list({(r[0], r[1]): r for r in rows}.values()))

    def links_of(self, seqs: Sequence[int], tiers: Sequence[int], close_only: bool = False) -> list[tuple[Any, ...]]:
        """Stored links of these tiers touching these articles (``close_only``: exact and near-duplicate ones)."""
        condition = f" AND tier IN ({', '.join(str(int(t)) for t in tiers)})" + (" AND relation >= 2" if close_only
                                                                                 else "")
        columns = ", ".join(LINK_COLUMNS)
        rows = self._in(f"SELECT {columns} FROM links WHERE a IN ({{in}}){condition}", list(seqs))
        rows += self._in(f"SELECT {columns} FROM links WHERE b IN ({{in}}){condition}", list(seqs))
        return list(dict.fromkeys(rows))

    def link_count(self, tiers: Sequence[int]) -> dict[int, int]:
        """Links of these tiers by relation code."""
        listed = ", ".join(str(int(t)) for t in tiers)
        return {int(r): int(c) for r, c in
                self._rows(f"SELECT relation, COUNT(*) FROM links WHERE tier IN ({listed}) GROUP BY relation")}

    # ------------------------------------------------------------------ passages and copy families

    def insert_passages(self, rows: Sequence[tuple[int, int]]) -> None:
        """``(fingerprint, seq)`` rows (fingerprints as signed 64-bit integers)."""
        self._bulk("passages", ("key", "seq"), rows)

    def delete_passages(self, rows: Sequence[tuple[int, int]]) -> None:
        self._many("DELETE FROM passages WHERE key = ? AND seq = ?", rows)

    def passage_holders(self, keys: Sequence[int]) -> list[int]:
        """Seqs of the stored articles holding any of these passage fingerprints."""
        return sorted({int(r[0]) for r in self._in("SELECT seq FROM passages WHERE key IN ({in})", list(keys))})

    def family_members(self, families: Sequence[int]) -> list[int]:
        """Seqs of the articles of these copy families."""
        return sorted(int(r[0]) for r in self._in("SELECT seq FROM articles WHERE family IN ({in})", list(families)))

    def merge_families(self, target: int, others: Sequence[int]) -> None:
        """The articles of the families ``others`` join the family ``target``."""
        self._in(f"UPDATE articles SET family = {int(target)} WHERE family IN ({{in}})", list(others))

    def set_family(self, changes: Sequence[tuple[int, int]]) -> None:
        self._update("family", "bigint", changes)

    def family_df(self, kind: int, keys: Sequence[int]) -> dict[int, int]:
        """Copy families holding each of these keys (``kind`` 0: shingles, 1: passage fingerprints); absent: 0."""
        out: dict[int, int] = {}
        for table in ("family_df", "family_df_recent"):
            for k, c in self._in(f"SELECT key, count FROM {table} WHERE kind = {int(kind)} AND key IN ({{in}})",
                                 list(keys)):
                out[int(k)] = out.get(int(k), 0) + int(c)
        return {k: c for k, c in out.items() if c}

    def family_table(self) -> list[tuple[int, int, int]]:
        """Every ``(kind, key, families)`` with families > 0."""
        rows = self._rows("SELECT kind, key, SUM(count) FROM (SELECT kind, key, count FROM family_df UNION ALL "
                          "SELECT kind, key, count FROM family_df_recent) AS f GROUP BY kind, key")
        return [(int(a), int(b), int(c)) for a, b, c in rows if int(c) != 0]

    def add_family_df(self, kind: int, deltas: Sequence[tuple[int, int]]) -> None:
        """Add to the family counts of keys (``(key, change)`` rows, no zero change). SQLite: in
        ``family_df_recent``, merged into ``family_df`` when it has grown (see the module);
        PostgreSQL: in ``family_df`` (rows reaching 0 deleted)."""
        rows = [(kind, k, d) for k, d in deltas]
        if not rows:
            return
        if self.dialect != "sqlite":
            self._run("CREATE TEMP TABLE IF NOT EXISTS family_delta (kind SMALLINT, key BIGINT, count BIGINT) "
                      "ON COMMIT DELETE ROWS")
            self._bulk("family_delta", ("kind", "key", "count"), rows)
            self._run("INSERT INTO family_df (kind, key, count) SELECT kind, key, count FROM family_delta "
                      "ON CONFLICT (kind, key) DO UPDATE SET count = family_df.count + excluded.count")
            self._run("DELETE FROM family_delta")
            emptied = [k for _, k, d in rows if d < 0]
            if emptied:
                self._in(f"DELETE FROM family_df WHERE kind = {int(kind)} AND count = 0 AND key IN ({{in}})", emptied)
            return
        self._many("INSERT INTO family_df_recent (kind, key, count) VALUES (?, ?, ?) ON CONFLICT (kind, key) "
                   "DO UPDATE SET count = family_df_recent.count + excluded.count", rows)
        meta = dict(self._rows("SELECT key, value FROM meta WHERE key IN ('family_rows', 'family_recent_rows')"))
        settled, recent = int(meta["family_rows"]), int(meta["family_recent_rows"]) + len(rows)  # upper bounds
        if recent > max(self.family_merge_min, settled // _MERGE_RATIO):
            self._merge_family_df()
            settled, recent = int(self._rows("SELECT COUNT(*) FROM family_df")[0][0]), 0
        self.set_meta({"family_rows": str(settled), "family_recent_rows": str(recent)})

    def _merge_family_df(self) -> None:
        """``family_df_recent`` added into ``family_df`` in key order (rows reaching 0 deleted), then emptied."""
        self._run("INSERT INTO family_df (kind, key, count) SELECT kind, key, count FROM family_df_recent "
                  "WHERE count <> 0 ORDER BY kind, key "
                  "ON CONFLICT (kind, key) DO UPDATE SET count = family_df.count + excluded.count")
        self._run("DELETE FROM family_df WHERE count = 0 AND (kind, key) IN "
                  "(SELECT kind, key FROM family_df_recent WHERE count < 0)")
        self._run("DELETE FROM family_df_recent")

    def size_bytes(self) -> int | None:
        if self.dialect == "sqlite":
            rows = self._rows("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            return int(rows[0][0])
        return int(self._rows("SELECT pg_database_size(current_database())")[0][0])


def open_store(url: str | os.PathLike[str], timeout: float = 60.0) -> SqlStore:
    """A store for a SQLite path (created if missing), ``":memory:"``, or a ``postgresql://`` URL."""
    where = os.fspath(url)
    if where.startswith(("postgresql://", "postgres://")):
        return _open_postgres(where, timeout)
    if where.startswith("sqlite:///"):
        where = where[len("sqlite:///") :]
    if where != ":memory:" and os.path.isdir(where):
        raise StoreError(f"{where} is a folder; give the path of an index file (created if missing)")
    try:
        connection = sqlite3.connect(where, timeout=timeout, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open index {where}: {exc}") from None
    store = SqlStore(connection, "sqlite", where)
    try:
        application_id = int(connection.execute("PRAGMA application_id").fetchone()[0])
        if application_id not in (0, _APPLICATION_ID):
            raise StoreError(f"{where} is a SQLite database of another application "
                             f"(application_id {application_id:#x}), not a dedup index")
        if where != ":memory:":
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{where}: cannot switch the index to WAL mode (got {mode})")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        connection.execute("PRAGMA foreign_keys = OFF")
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise StoreError(f"{where} is not a readable dedup index ({exc}); it was left untouched") from None
    return store


def _open_postgres(url: str, timeout: float) -> SqlStore:
    try:
        import psycopg
    except ImportError:
        raise StoreError("a PostgreSQL index needs psycopg 3: pip install 'dedup[postgres]'") from None
    try:
        connection = psycopg.connect(url, autocommit=True, connect_timeout=int(max(1, timeout)))
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to {_redact(url)}: {exc}") from None
    return SqlStore(connection, "postgresql", _redact(url))


def _redact(url: str) -> str:
    """The URL without its password."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, user = head.partition("//")
    return f"{scheme}//{user.split(':', 1)[0]}:***@{tail}"
