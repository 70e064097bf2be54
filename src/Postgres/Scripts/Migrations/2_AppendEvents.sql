-- Released with a definition of append_events (positions from the log_head counter). Functions now live in ../Functions, one current file each,
-- so this migration does nothing; it keeps its number because existing stores list it as applied.
SELECT 1;
