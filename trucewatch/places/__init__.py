"""Naming where a finding lies, from the bundled gazetteer, for every reader.

``nearest`` words a position the way a monitoring mission writes it ("3 km NE of
Horlivka", ACLED's geo-precision), for the daily report and the exports;
``settlements`` gives the map's nearest place and label layer.  Why a package of its
own: the report, the exports and the access views all name places, and none of them may
import another for it (no package cycles; docs/architecture.md).
"""
