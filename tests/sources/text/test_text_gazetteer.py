"""Gazetteer and romanisation: spellings meet, same-name places are told apart."""

from __future__ import annotations

import pytest

from trucewatch.sources.text.gazetteer import Gazetteer, resolve_admin1
from trucewatch.sources.text.translit import fold, query_stems, romanize, stem


@pytest.mark.parametrize(
    ("cyr", "latin"),
    [("Згурівка", "Zghurivka"), ("Київ", "Kyiv"), ("Запоріжжя", "Zaporizhzhia"), ("Яготин", "Yahotyn"),
     ("Юрківці", "Yurkivtsi"), ("Знам'янка", "Znamianka"), ("Щастя", "Shchastia"), ("Їжакевич", "Yizhakevych")],
)
def test_national_romanisation(cyr: str, latin: str) -> None:
    assert romanize(cyr, "national") == latin


def test_other_systems() -> None:
    assert romanize("Харків", "iso9") == "Harkìv"
    assert romanize("Николаев", "russian_bgn") == "Nikolayev"
    with pytest.raises(ValueError, match="unknown romanisation"):
        romanize("Київ", "klingon")


@pytest.mark.parametrize("names", [("Kharkiv", "Харків", "Харкова"), ("Zaporizhzhia", "Запоріжжя", "Zaporizhzhya"),
                                   ("Huliaipole", "Гуляйполе", "Gulyaypole", "Hulyaipole")])
def test_spellings_share_a_stem(names: tuple[str, ...]) -> None:
    target = stem(fold(names[0]))
    assert all(target in query_stems(fold(n)) for n in names)
    assert stem(fold("Kharkiv")) not in query_stems(fold("Kherson"))


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def test_size_and_cache(gaz: Gazetteer) -> None:
    assert len(gaz) > 25_000
    assert Gazetteer.load() is gaz


@pytest.mark.parametrize(
    ("query", "admin1", "lat", "lon"),
    [("Pokrovsk", None, 48.28, 37.18), ("Покровському", None, 48.28, 37.18), ("Костянтинівці", None, 48.53, 37.71),
     ("Kupyansk", None, 49.71, 37.62), ("Zolochiv", "Kharkiv Oblast", 50.27, 35.98),
     ("Zolochiv", "Львівська область", 49.81, 24.90), ("Kursk", None, 51.73, 36.18), ("Курске", None, 51.73, 36.18),
     ("Millerovo", None, 48.93, 40.40), ("Yeysk", None, 46.69, 38.28), ("Ейск", None, 46.69, 38.28),
     ("Primorsko-Akhtarsk", None, 46.05, 38.18), ("Bryansk", None, 53.27, 34.32), ("Belgorod", None, 50.60, 36.58),
     ("Oryol", None, 52.97, 36.08), ("Terny", "Sumy oblast", 50.99, 33.97), ("Terny", "Dnipropetrovsk", 48.15, 33.56)],
)
def test_lookup(gaz: Gazetteer, query: str, admin1: str | None, lat: float, lon: float) -> None:
    c = gaz.lookup(query, admin1=admin1)[0]
    assert abs(c.lat - lat) < 0.1 and abs(c.lon - lon) < 0.1, c


def test_lookup_near_and_fields(gaz: Gazetteer) -> None:
    # many Novoselivkas: the one near a given point wins
    c = gaz.lookup("Novoselivka", near=(47.17, 30.83))[0]
    assert abs(c.lat - 47.16) < 0.1 and c.admin1 == "Odesa Oblast"
    d = c.to_dict()
    assert {"name", "lat", "lon", "admin1", "country", "population", "kind", "score", "radius_m"} <= set(d)
    assert gaz.lookup("Xqzzyv") == []


def test_resolve_admin1() -> None:
    assert resolve_admin1("Донецької області") == "Donetsk Oblast"
    assert resolve_admin1("Харківщина") == "Kharkiv Oblast"
    assert resolve_admin1("Запорожской области") == "Zaporizhzhia Oblast"
    assert resolve_admin1("Kursk region") == "Kursk Oblast"


def test_bundled_keys_are_current() -> None:
    """The build stores folded keys; a change to fold() without a rebuild must fail here."""
    import gzip

    from trucewatch.sources.text.gazetteer import DATA

    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        assert header[-1] == "keys"
        for n, line in enumerate(f):
            if n % 997:
                continue
            r = line.rstrip("\n").split("\t")
            assert set(r[12].split("|")) == {fold(x) for x in (r[0], r[1], *r[2].split("|"))}, r[0]


def test_far_spellings_give_way_to_the_area(gaz: Gazetteer) -> None:
    # Seversk (Siberia) and the Ochakovo district of Moscow are not what Ukrainian reports mean
    assert gaz.lookup("Seversk")[0].admin1 == "Donetsk Oblast"
    assert gaz.lookup("Очакові")[0].admin1 == "Mykolaiv Oblast"
    assert gaz.lookup("Артемовск")[0].name in ("Bakhmut", "Artemivsk")
