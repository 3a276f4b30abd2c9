"""Clinic insights: patterns mined from the clinic's own structured records.

Qt-free. ``transactions`` turns records into item sets (present findings
only), ``source`` reads them from the database, ``rules`` mines association
rules, ``modifications`` compares a prescription with a classical formula's
standard composition (加减), ``similar`` ranks past cases. These are
statistics of one clinic's records, not treatment advice.
"""
