"""Reading the audit trail: the clinic admin's report (LG-05) and "who viewed the record" for a
child's guardians and therapists (DESIGN §7)."""
