DROP TRIGGER enterprise_versions_feed_event ON enterprise_versions;
DROP FUNCTION registry_feed_event();
ALTER TABLE feed_head RESET (fillfactor);
ALTER TABLE code_serials RESET (fillfactor);
