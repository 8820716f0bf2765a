-- Placeholder: tern needs contiguous migration numbers; this domain's tables follow.
SELECT 1;
