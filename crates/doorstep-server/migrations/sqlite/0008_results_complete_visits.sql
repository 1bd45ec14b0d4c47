-- A visit is done once someone answered the door ("not home" leaves it open). Kept by the
-- database as results are inserted, so storing a batch is one statement.
CREATE TRIGGER results_complete_their_visit AFTER INSERT ON results
WHEN NEW.visit_id IS NOT NULL AND NEW.outcome IS NOT NULL AND NEW.outcome <> 'not_home'
BEGIN
    UPDATE visits SET completed_at = NEW.received_at
    WHERE id = NEW.visit_id AND completed_at IS NULL;
END;
