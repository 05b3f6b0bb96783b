-- pgbench: the peer of the HTTP look-up, a select by primary key of the same record column. The
-- random code comes from bench_codes (the same codes the HTTP run draws from), by its row number.
\set i random(1, :ncodes)
SELECT e.record FROM bench_codes b JOIN enterprises e ON e.code = b.code WHERE b.i = :i;
