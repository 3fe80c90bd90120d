-- 002_sessions.sql: sessions, the append-only event log, and the tables that
-- hold what a session produced (participants, score rounds and scores,
-- explanation keywords, themes and votes, desired scores, look ahead, summary,
-- reactions, evaluations).
--
-- The event log is the record of what happened, exactly as broadcast; the
-- other tables are the queryable state the daemon keeps beside it. Every table
-- here has a natural key made of the session id and the session-local ids the
-- session engine hands out (pid, kid, tid, lid), so each write can be repeated
-- safely with INSERT ... ON CONFLICT after a lost connection or a spool replay.
--
-- Text limits below are outer bounds, deliberately wider than the daemon's own
-- configured limits: a value the daemon accepted must never fail here.
--
-- Applied once by scripts/migrate.sh inside one transaction (no BEGIN/COMMIT).

SET LOCAL ROLE lwk_owner;
SET LOCAL search_path = lwk;

-- ---------------------------------------------------------------------------
-- Sessions
-- ---------------------------------------------------------------------------

-- id is chosen by the daemon (random, 62 bits, never 0), not by a sequence, so
-- ids reveal nothing about other sessions or organisations and a session can
-- be created before the database is reachable.
-- organisation_id is redundant with the team's but kept on the row for
-- row-level security; the composite foreign key keeps it consistent, and
-- team_kind (always 'team') makes that key reject a location or department.
CREATE TABLE sessions (
    id                    bigint PRIMARY KEY
                          CHECK (id > 0 AND id < 4611686018427387904),  -- 2^62
    organisation_id       bigint NOT NULL,
    team_id               bigint NOT NULL,
    team_kind             text NOT NULL GENERATED ALWAYS AS ('team') STORED,
    instrument_version_id bigint NOT NULL REFERENCES instrument_versions (id),
    facilitator_id        bigint REFERENCES facilitators (id),
    status                text NOT NULL DEFAULT 'open'
                          CHECK (status IN ('open', 'paused', 'closed')),
    planned_at            timestamptz,
    started_at            timestamptz,
    closed_at             timestamptz,
    join_code_hash        text CHECK (char_length(join_code_hash) <= 512),
    kiosk_code_hash       text CHECK (char_length(kiosk_code_hash) <= 512),
    next_session_date     date,                                -- agreed in the look ahead
    last_seq              bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, organisation_id, team_id),    -- target for actions' consistency key
    FOREIGN KEY (organisation_id, team_id, team_kind)
        REFERENCES org_units (organisation_id, id, kind),
    CHECK (status <> 'closed' OR closed_at IS NOT NULL),
    CHECK (closed_at IS NULL OR started_at IS NULL OR closed_at >= started_at)
);
CREATE INDEX sessions_team_time_idx ON sessions (team_id, started_at);
CREATE INDEX sessions_organisation_time_idx ON sessions (organisation_id, started_at);
CREATE INDEX sessions_facilitator_idx ON sessions (facilitator_id);
-- What the daemon loads at startup.
CREATE INDEX sessions_live_idx ON sessions (status) WHERE status <> 'closed';

-- ---------------------------------------------------------------------------
-- The event log
-- ---------------------------------------------------------------------------

-- One row per event of a session, in the order the session engine produced
-- them: seq counts from 1 per session (sessions.last_seq = 0 means none yet),
-- payload is the MessagePack-encoded event exactly as broadcast to clients.
--
-- Idempotent insert: the daemon writes with
--     INSERT INTO lwk.session_events (session_id, seq, kind, payload)
--     VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, seq) DO NOTHING;
-- so writing the same (session_id, seq) twice (a retry after a lost COMMIT,
-- a spool replayed after a crash) leaves exactly one row and is not an error.
-- The first write wins; a second write with a different payload is silently
-- ignored, which is right because an event never changes once sequenced.
--
-- Append-only: the daemon has INSERT and SELECT only, and a trigger rejects
-- UPDATE for everyone. The primary key is also the index for reading a
-- session's events in order.
CREATE TABLE session_events (
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq        bigint NOT NULL CHECK (seq >= 1),
    kind       text NOT NULL CHECK (char_length(kind) BETWEEN 1 AND 64),
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, seq)
);
CREATE TRIGGER session_events_append_only
    BEFORE UPDATE ON session_events
    FOR EACH ROW EXECUTE FUNCTION reject_update();

-- ---------------------------------------------------------------------------
-- Participants
-- ---------------------------------------------------------------------------

-- pid is handed out by the session engine. A removed participant keeps the
-- row (and the name) so that their scores keep a referent.
CREATE TABLE participants (
    session_id   bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    pid          int NOT NULL CHECK (pid >= 0),
    display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 200),
    joined_at    timestamptz NOT NULL DEFAULT now(),
    removed      boolean NOT NULL DEFAULT false,
    person_id    bigint REFERENCES persons (id),          -- optional, pseudonymous
    PRIMARY KEY (session_id, pid),
    UNIQUE (session_id, display_name)
);

-- ---------------------------------------------------------------------------
-- Step 1a: blind scoring, one round per item (a re-score opens round 2, ...)
-- ---------------------------------------------------------------------------

-- item is instrument_items.position within the session's instrument version.
CREATE TABLE score_rounds (
    session_id  bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    item        smallint NOT NULL CHECK (item >= 0),
    round       smallint NOT NULL CHECK (round >= 1),
    opened_at   timestamptz NOT NULL DEFAULT now(),
    revealed_at timestamptz,
    PRIMARY KEY (session_id, item, round),
    CHECK (revealed_at IS NULL OR revealed_at >= opened_at)
);

-- A grade from 1 to 10. The primary key doubles as the index on session.
-- by_facilitator: typed in by the facilitator on the participant's behalf.
CREATE TABLE scores (
    session_id     bigint NOT NULL,
    item           smallint NOT NULL,
    round          smallint NOT NULL,
    pid            int NOT NULL,
    value          smallint NOT NULL CHECK (value BETWEEN 1 AND 10),
    by_facilitator boolean NOT NULL DEFAULT false,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, item, round, pid),
    FOREIGN KEY (session_id, item, round)
        REFERENCES score_rounds (session_id, item, round) ON DELETE CASCADE,
    FOREIGN KEY (session_id, pid) REFERENCES participants (session_id, pid) ON DELETE CASCADE
);

-- ---------------------------------------------------------------------------
-- Step 1b: explanations, recorded as keywords visible to all
-- ---------------------------------------------------------------------------

-- pid: whose explanation it records (NULL: the group's); item: which
-- capability it is about (NULL: general).
CREATE TABLE keywords (
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kid        int NOT NULL CHECK (kid >= 0),
    pid        int,
    item       smallint CHECK (item >= 0),
    text       text NOT NULL CHECK (char_length(text) <= 10000),
    deleted    boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, kid),
    FOREIGN KEY (session_id, pid) REFERENCES participants (session_id, pid) ON DELETE CASCADE
);

-- ---------------------------------------------------------------------------
-- Step 3a: themes, votes on themes, desired scores
-- ---------------------------------------------------------------------------

-- A theme merged into another keeps its row and points at the survivor.
CREATE TABLE themes (
    session_id  bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    tid         int NOT NULL CHECK (tid >= 0),
    text        text NOT NULL CHECK (char_length(text) <= 10000),
    merged_into int,
    deleted     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, tid),
    FOREIGN KEY (session_id, merged_into) REFERENCES themes (session_id, tid),
    CHECK (merged_into <> tid)
);

-- Which capabilities a theme is about (many to many).
CREATE TABLE theme_items (
    session_id bigint NOT NULL,
    tid        int NOT NULL,
    item       smallint NOT NULL CHECK (item >= 0),
    PRIMARY KEY (session_id, tid, item),
    FOREIGN KEY (session_id, tid) REFERENCES themes (session_id, tid) ON DELETE CASCADE
);

CREATE TABLE theme_votes (
    session_id bigint NOT NULL,
    tid        int NOT NULL,
    pid        int NOT NULL,
    votes      smallint NOT NULL CHECK (votes BETWEEN 0 AND 100),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, tid, pid),
    FOREIGN KEY (session_id, tid) REFERENCES themes (session_id, tid) ON DELETE CASCADE,
    FOREIGN KEY (session_id, pid) REFERENCES participants (session_id, pid) ON DELETE CASCADE
);

-- What each participant proposes as the score to reach for a capability ...
CREATE TABLE desired_score_proposals (
    session_id bigint NOT NULL,
    item       smallint NOT NULL CHECK (item >= 0),
    pid        int NOT NULL,
    value      smallint NOT NULL CHECK (value BETWEEN 1 AND 10),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, item, pid),
    FOREIGN KEY (session_id, pid) REFERENCES participants (session_id, pid) ON DELETE CASCADE
);

-- ... and the desired score the group settles on (agreed once confirmed).
CREATE TABLE desired_scores (
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    item       smallint NOT NULL CHECK (item >= 0),
    value      smallint NOT NULL CHECK (value BETWEEN 1 AND 10),
    agreed     boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, item)
);

-- ---------------------------------------------------------------------------
-- Step 4 and the close: look ahead, summary, reactions, evaluations
-- ---------------------------------------------------------------------------

-- Agreements on follow-up: where the capabilities get a place in recurring
-- processes (team meetings, appraisals, onboarding). The date of the next
-- session is sessions.next_session_date.
CREATE TABLE look_ahead_items (
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    lid        int NOT NULL CHECK (lid >= 0),
    text       text NOT NULL CHECK (char_length(text) <= 10000),
    deleted    boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, lid)
);

-- The facilitator's summary: one per session, edited in place.
CREATE TABLE summaries (
    session_id bigint PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    text       text NOT NULL CHECK (char_length(text) <= 50000),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A participant's reaction to the summary (one each, edited in place).
CREATE TABLE reactions (
    session_id bigint NOT NULL,
    pid        int NOT NULL,
    text       text NOT NULL CHECK (char_length(text) <= 10000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, pid),
    FOREIGN KEY (session_id, pid) REFERENCES participants (session_id, pid) ON DELETE CASCADE
);

-- The look back: how did the participant experience the session (1..5).
CREATE TABLE evaluations (
    session_id bigint NOT NULL,
    pid        int NOT NULL,
    rating     smallint CHECK (rating BETWEEN 1 AND 5),
    text       text CHECK (char_length(text) <= 10000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, pid),
    FOREIGN KEY (session_id, pid) REFERENCES participants (session_id, pid) ON DELETE CASCADE,
    CHECK (rating IS NOT NULL OR text IS NOT NULL)
);

-- ---------------------------------------------------------------------------
-- The daemon's rights: read and write session state, append to the event log.
-- DELETE only where the method removes a link (a theme unlinked from an item,
-- votes withdrawn); everything else is marked removed/deleted instead.
-- ---------------------------------------------------------------------------

GRANT SELECT, INSERT ON session_events TO lwk_daemon;
GRANT SELECT, INSERT, UPDATE ON
    sessions, participants, score_rounds, scores, keywords, themes, theme_items, theme_votes,
    desired_score_proposals, desired_scores, look_ahead_items, summaries, reactions, evaluations
    TO lwk_daemon;
GRANT DELETE ON theme_items, theme_votes TO lwk_daemon;
