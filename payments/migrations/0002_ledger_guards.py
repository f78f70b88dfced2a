from django.db import migrations

# On PostgreSQL, below the ORM too: a transaction whose postings do not balance in every currency is refused
# when it commits (a deferred constraint trigger, so that its postings may be inserted one by one); postings
# are never updated or deleted; a transaction is never deleted, and only its status ever changes.
LEDGER_GUARDS = """
CREATE OR REPLACE FUNCTION payments_posting_balanced() RETURNS trigger AS $$
DECLARE
    unbalanced text;
BEGIN
    SELECT string_agg(amount_currency || ' ' || difference, ', ') INTO unbalanced FROM (
        SELECT amount_currency, SUM(CASE WHEN side = 'debit' THEN amount ELSE -amount END) AS difference
        FROM payments_posting WHERE transaction_id = NEW.transaction_id GROUP BY amount_currency
    ) AS sums WHERE difference <> 0;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: % (debits less credits)', NEW.transaction_id, unbalanced
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER payments_posting_balanced AFTER INSERT ON payments_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments_posting_balanced();

CREATE OR REPLACE FUNCTION payments_posting_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger postings are never updated or deleted: post a reversal'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payments_posting_guard BEFORE UPDATE OR DELETE ON payments_posting
    FOR EACH ROW EXECUTE FUNCTION payments_posting_guard();

CREATE OR REPLACE FUNCTION payments_ledgertransaction_guard() RETURNS trigger AS $$
DECLARE
    kept payments_ledgertransaction%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        kept := NEW;
        kept.status := OLD.status;
        kept.created_by_id := OLD.created_by_id;
        IF kept IS NOT DISTINCT FROM OLD
            AND (NEW.status = OLD.status OR OLD.status = 'pending')  -- a pending one is posted or voided, once
            AND (NEW.created_by_id IS NOT DISTINCT FROM OLD.created_by_id OR NEW.created_by_id IS NULL)  -- user gone
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'ledger transactions are never deleted, and only a pending one changes, once'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payments_ledgertransaction_guard BEFORE UPDATE OR DELETE ON payments_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION payments_ledgertransaction_guard();
"""
LEDGER_UNGUARD = """
DROP TRIGGER IF EXISTS payments_ledgertransaction_guard ON payments_ledgertransaction;
DROP FUNCTION IF EXISTS payments_ledgertransaction_guard();
DROP TRIGGER IF EXISTS payments_posting_guard ON payments_posting;
DROP FUNCTION IF EXISTS payments_posting_guard();
DROP TRIGGER IF EXISTS payments_posting_balanced ON payments_posting;
DROP FUNCTION IF EXISTS payments_posting_balanced();
"""


def guard_ledger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LEDGER_GUARDS, params=None)  # no params: the SQL holds a literal %


def unguard_ledger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LEDGER_UNGUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_ledger_payments_payouts")]

    operations = [migrations.RunPython(guard_ledger, unguard_ledger)]
