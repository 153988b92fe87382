-- The inspection's snapshot, for a second connection to read the same catalogs in
-- (SET TRANSACTION SNAPSHOT), and the transaction's isolation level, which must keep
-- one snapshot for every query. A standby exports no snapshot: NULL there, and
-- inspection reads everything on this connection. Raises parallel_setup_cost for the
-- rest of this transaction, as server.sql does for the connection that runs it.
SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_export_snapshot() END AS snapshot,
       current_setting('transaction_isolation') AS isolation,
       set_config('parallel_setup_cost', '5000', true) AS parallel_setup_cost
