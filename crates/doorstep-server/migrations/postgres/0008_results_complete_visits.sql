-- A visit is done once someone answered the door ("not home" leaves it open). Kept by the
-- database as results are inserted, once per statement, so storing a batch is one statement.
CREATE FUNCTION results_complete_their_visits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits v SET completed_at = i.received_at
    FROM (SELECT visit_id, MIN(received_at) AS received_at FROM inserted
          WHERE visit_id IS NOT NULL AND outcome IS NOT NULL AND outcome <> 'not_home'
          GROUP BY visit_id) i
    WHERE v.id = i.visit_id AND v.completed_at IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER results_complete_their_visit AFTER INSERT ON results
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION results_complete_their_visits();
