-- Which of the columns that custom grants name exist ($1 schemas, $2 tables, $3 columns).
SELECT d.schema, d.table, d.column
  FROM unnest($1::text[], $2::text[], $3::text[]) AS d(schema, "table", "column")
  JOIN pg_namespace n ON n.nspname = d.schema
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = d.table AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = d.column AND a.attnum > 0 AND NOT a.attisdropped;
