"""The record checker: findings per record, rule by rule (issue 12)."""
