-- `registry import`: the progress of each file loaded, so that an interrupted import resumes after
-- its last committed batch (each batch commits its rows and this progress together), and the
-- lines it refused, for the summary of a resumed run.
CREATE TABLE import_runs (
    id              bigserial PRIMARY KEY,
    -- SHA-256 over the file's size and its first and last MiB: the same file is recognised when
    -- the import is run again.
    file_key        text NOT NULL UNIQUE,
    path            text NOT NULL,
    size            bigint NOT NULL,
    -- Where the next batch starts: the byte offset and the line number of its first line.
    next_offset     bigint NOT NULL DEFAULT 0,
    next_line       bigint NOT NULL DEFAULT 1,
    enterprises     bigint NOT NULL DEFAULT 0,
    versions        bigint NOT NULL DEFAULT 0,
    refused         bigint NOT NULL DEFAULT 0,
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);

CREATE TABLE import_refusals (
    run_id          bigint NOT NULL REFERENCES import_runs (id) ON DELETE CASCADE,
    line            bigint NOT NULL,
    code            text,
    reason          text NOT NULL,
    PRIMARY KEY (run_id, line)
);
