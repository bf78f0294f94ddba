#!/usr/bin/env python
"""Write the labelled real-text evaluation sets (trucewatch/data/eval/real/text/) from the items below.

Every item is real text published by someone outside this project (a short excerpt: a headline or one
to three sentences), found through the project's stored copy of public web pages, with its URL.  The
labels (place coordinates, event or not, casualty counts) were set by reading the text; coordinates are
GeoNames coordinates of the named place (as in the bundled gazetteer, checked against the map) or, for
villages GeoNames lacks, the OSCE report's own locator of that village from a city ("63km north-west of
Luhansk"), flagged ``label_from_locator``.

OSCE patrol items: the true location is the named position (village, or "N km direction of" it) moved
by the stated offset of the explosions or fire; the tolerance is max(2 km, half the stated distance
range + 15 % of the mean distance for the direction's spread) + 1 km for the village's own extent, or
+ 15 % of the locator distance when the village is known only from the locator.

The split is fixed before any tuning and per item: an item is ``dev`` (tune on these only) when
sha256(f"{SEED}:{id}") read as a fraction is below DEV_SHARE, else ``heldout``; adding items later never
moves an existing one.  The March 2025 VIINA headlines
are all ``dev`` (that month is the one tuned on); the held-out headlines are from other months.

Usage: python scripts/build_real_text_eval.py
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "trucewatch" / "data" / "eval" / "real" / "text"
SEED = 18
DEV_SHARE = 0.3

NEWS = "news page excerpt (short quotation for evaluation); (c) the publisher"
OSCE = "OSCE SMM report text (osce.org; reproduction with acknowledgement of the OSCE as source), or its press quotation"
VIINA = "VIINA (Zhukov), ODbL 1.0, via scott4ai/ukraine-fire-tracking; label ours"

# Place coordinates used by the labels (GeoNames, as checked).
P = {
    "Kherson": (46.6369, 32.6146), "Odesa": (46.4857, 30.7438), "Zaporizhzhia": (47.8517, 35.1171),
    "Mykolaiv": (46.9763, 31.993), "Lutsk": (50.7578, 25.3502), "Nikopol": (47.5683, 34.3913),
    "Marhanets": (47.6309, 34.6245), "Ochakiv": (46.6147, 31.545), "Druzhkivka": (48.62, 37.5254),
    "Kramatorsk": (48.7311, 37.5678), "Kostiantynivka": (48.5273, 37.7059), "Kupiansk": (49.71, 37.6158),
    "Kremenchuk": (49.0625, 33.4048), "Novomoskovsk": (48.6289, 35.2589), "Borova": (49.3805, 37.6193),
    "Pechenihy": (49.8693, 36.9386), "Kursk": (51.7269, 36.1846), "Oryol": (52.9688, 36.0791),
    "Volgograd": (48.7138, 44.4976), "Graivoron": (50.4789, 35.6809), "Shostka": (51.8643, 33.4728),
    "Lviv": (49.8383, 24.0232), "Mukachevo": (48.4425, 22.718), "Kharkiv": (49.9818, 36.2548),
    "Dobropillia": (48.4667, 37.0833), "Bohuslavka": (49.4739, 37.6837), "Ivano-Frankivsk": (48.9231, 24.7125),
    "Okhtyrka": (50.3085, 34.8947), "Vovchansk": (50.2908, 36.9411), "Krasne Pershe": (49.9458, 37.755),
    "Kostiantynopil": (48.0008, 37.0404), "Rozlyv": (47.972, 36.9995), "Skadovsk": (46.1131, 32.9098),
    "Bilozerka": (46.6265, 32.4445), "Toretsk": (48.3948, 37.8478), "Sumy": (50.9174, 34.7991),
    "Zolochiv (Kharkiv)": (50.2733, 35.9776), "Novovorontsovka": (47.505, 33.923),
    "Antonivka (Kherson)": (46.677, 32.731), "Malokaterynivka": (47.656, 35.257), "Kivsharivka": (49.63, 37.678),
    "Novoosynove": (49.622, 37.704), "Starytsia": (50.24, 36.793), "Pishchane (Kupiansk)": (49.381, 37.441),
    "Oleksiievo-Druzhkivka": (48.5791, 37.6094), "Shalyhyne": (51.57, 34.125), "Seredyna-Buda": (52.189, 34.036),
    "Olhivka (Beryslav)": (46.792, 33.196), "Lvove": (46.794, 33.155), "Stanislav": (46.573, 32.148),
    "Khomutovka": (51.921, 34.562), "Kirishi": (59.474, 32.04), "Liski": (50.982, 39.504),
    "Ilsky": (44.842, 38.567), "Belgorod": (50.6034, 36.5809), "Zhytomyr": (50.2623, 28.6791),
    "Kyiv": (50.4547, 30.5238), "Kamianka (Kupiansk)": (49.9517, 37.8833),
    "Lipetsk": (52.6031, 39.5708), "Ceadir-Lunga": (46.0617, 28.8306), "Orikhiv": (47.5761, 35.7833),
    "Vorozhba": (51.1732, 34.2266), "Velyka Pysarivka": (50.4233, 35.483), "Krasnopillia (Sumy)": (50.7739, 35.2563),
    "Pozhnia": (50.5089, 35.3351), "Klimovo": (52.3788, 32.1963),
    # OSCE positions
    "Donetsk": (48.0159, 37.8029), "Luhansk": (48.5681, 39.3055), "Mariupol": (47.0951, 37.5413),
    "Zolote": (48.695, 38.515), "Spartak": (48.081, 37.769), "Pikuzy": (47.177, 37.818),
    "Chermalyk": (47.314, 37.808), "Horlivka": (48.30, 38.017), "Pervomaisk (Luhansk)": (48.6279, 38.5239),
    "Yasynuvata": (48.127, 37.859), "Avdiivka": (48.14, 37.75), "Svitlodarsk": (48.434, 38.223),
    "Kadiivka": (48.568, 38.644), "Shyrokyne": (47.098, 37.818), "Holmivskyi": (48.404, 38.082),
}
BEAR = {"N": 0, "NNE": 22.5, "NE": 45, "ENE": 67.5, "E": 90, "ESE": 112.5, "SE": 135, "SSE": 157.5, "S": 180,
        "SSW": 202.5, "SW": 225, "WSW": 247.5, "W": 270, "WNW": 292.5, "NW": 315, "NNW": 337.5}


def move(lat: float, lon: float, km: float, bearing: str | float) -> tuple[float, float]:
    b = math.radians(BEAR[bearing] if isinstance(bearing, str) else bearing)
    return lat + km * math.cos(b) / 111.32, lon + km * math.sin(b) / (111.32 * math.cos(math.radians(lat)))


def pl(*names: str) -> list[dict]:
    return [{"name": n, "lat": round(P[n][0], 4), "lon": round(P[n][1], 4)} for n in names]


# (id, lang, published, url, text, places, event, casualties)
HEADLINES = [
    ("h01", "uk", "2026-01-22T13:40", "https://lb.ua/society/2026/01/22/718248_rosiyani_vdarili_pro.html",
     "Орієнтовно о 13:10 росіяни атакували з безпілотника житловий будинок у Нововоронцовці Херсонської області. "
     "Унаслідок ворожого удару у власній оселі постраждала 50-річна жінка.", pl("Novovorontsovka"), True, {"injured": 1}),
    ("h02", "uk", "2025-01-22T09:30", "https://fun.my.ua/news/cluster/2025-01-22-rosiiani-vdarili-z-drona-po-khersonu-poranena-zhinka",
     "Росіяни вдарили з дрона по Херсону, поранена жінка", pl("Kherson"), True, {"injured": 1}),
    ("h03", "uk", "2024-10-27T11:00", "https://my.ua/news/cluster/2024-10-27-armiia-rf-dronami-atakovala-khersonshchinu-postradala-zhenshchina/3ed33edf-2065-62b2-c3fb-d350c7c7e11b",
     "На Херсонщині росіяни скинули вибухівку з дрона, внаслідок чого 67-річна жінка зазнала поранень. "
     "Сьогодні вранці російські військові атакували з безпілотника жительку Антонівки.",
     pl("Antonivka (Kherson)"), True, {"injured": 1}),
    ("h04", "uk", "2026-02-15T10:00", "https://lb.ua/society/2026/02/15/722519_rosiyani_vdarili_dronom.html",
     "Уранці 15 лютого російські окупанти атакували дроном Дніпровський район міста Херсон. Унаслідок атаки постраждав цивільний.",
     pl("Kherson"), True, {"injured": 1}),
    ("h05", "uk", "2025-11-24T12:30", "https://ukr.live/newses/cherez-dronovu-ataku-u-novovorontsovtsi-zaginula-ginka",
     "Через дронову атаку у Нововоронцовці загинула жінка", pl("Novovorontsovka"), True, {"killed": 1}),
    ("h06", "ru", "2025-11-12T10:00", "https://theotherukraine.info/2025/11/12/massirovannyj-udar-dronov-po-belgorodskoj-oblasti-est-postradavshij",
     "Как сообщил губернатор Вячеслав Гладков, в результате одного из ударов в Грайвороне пострадал мирный житель.",
     pl("Graivoron"), True, {"injured": 1}),
    ("h07", "uk", "2024-03-12T08:00", "https://my.ua/uk/news/cluster/2024-03-12-v-orle-gorit-neftebaza/fa9148bf-bae9-a7e2-b069-d07461f11c34",
     "Водночас в Орлі дрон влучив по нафтобазі і зайнялася пожежа.", pl("Oryol"), True, {}),
    ("h08", "uk", "2024-03-13T09:00", "https://unn.ua/news/drony-atakuvaly-odyn-z-naibilshykh-npz-rosii-sprychynyvshy-pozhezhu",
     "Дрони атакували Киришський НПЗ у ленінградській області рф.", pl("Kirishi"), True, {}),
    ("h09", "uk", "2024-02-03T09:00", "https://hromadske.ua/posts/u-rosiyi-goriv-odin-iz-najbilshih-naftopererobnih-zavodiv-minoboroni-rf-kazhe-pro-ataku-drona",
     "У ніч проти 3 лютого на нафтопереробному заводі «Лукойл» у російському Волгограді сталася пожежа.",
     pl("Volgograd"), True, {}),
    ("h10", "ru", "2025-01-20T08:00", "https://vrn.mk.ru/incident/2025/01/20/v-voronezhskoy-oblasti-posle-ataki-bpla-proizoshel-pozhar-na-neftebaze.html",
     "В Лискинском районе Воронежской области произошел пожар на нефтебазе. Причиной стала атака украинских беспилотников.",
     pl("Liski"), True, {}),
    ("h11", "uk", "2025-08-30T09:00", "https://espreso.tv/viyna-z-rosiyeyu-u-rosii-atakovano-ilskiy-npz-ta-obekti-naftoprovodu-druzhba",
     "Після падіння уламків безпілотника на території Ільського НПЗ виникла пожежа. Цю інформацію підтвердили в "
     "оперативному штабі Краснодарського краю, передає ASTRA з посиланням на регіональну владу.",
     pl("Ilsky"), True, {}),
    ("h12", "uk", "2024-12-01T12:00", "https://unn.ua/news/rosiiany-zavdaly-udaru-po-mistu-marhanets-dnipropetrovskoi-oblasti-shestero-postrazhdalykh",
     "російські війська обстріляли місто Марганець Дніпропетровської області, внаслідок чого постраждали шестеро людей.",
     pl("Marhanets"), True, {"injured": 6}),
    ("h13", "uk", "2023-05-10T12:00", "https://kstati.dp.ua/index.php/ru/proisshestviya/rossiyane-dnem-obstrelyali-dnepropetrovschinu-postradal-muzhchina",
     "Росіяни знову обстріляли Нікопольщину. Ударили з важкої артилерії по Марганцю. Поранений 26-річний чоловік.",
     pl("Marhanets"), True, {"injured": 1}),
    ("h14", "ru", "2022-11-20T09:00", "https://gordonua.com/news/war/v-rezultate-obstrela-nikopolya-ranen-muzhchina-v-gorode-vozniklo-neskolko-pozharov-ova-1631115.html",
     "Горячее всего было в Никополе. Туда прилетело более 40 российских снарядов. Ранен 47-летний мужчина.",
     pl("Nikopol"), True, {"injured": 1}),
    ("h15", "uk", "2025-06-10T10:00", "https://krlife.com.ua/?p=129399",
     "Із самого ранку ворог відкрив по Нікополю артилерійський вогонь. Загинув 45-річний чоловік. Ще один, 47 років, отримав осколкові поранення.",
     pl("Nikopol"), True, {"killed": 1, "injured": 1}),
    ("h16", "uk", "2022-12-12T10:00", "https://regionews.ua/ukr/amp/1671118136-viyska-rf-vdarili-po-nikopolskomu-rayonu-e-zhertvi",
     "Окупанти не вгамовуються на Нікопольщині. Знову накрили район вогнем з важкої артилерії. "
     "У Марганці вбили 65-річного чоловіка. Поранили щонайменше трьох: 16-річну дівчину, 38-річну жінку та 35-річного чоловіка.",
     pl("Marhanets"), True, {"killed": 1, "injured": 3}),
    ("h17", "uk", "2024-11-15T17:51", "https://intent.press/news/war/2024/golova-ova-kiper-rozkriv-yak-zaginula-zhinka-pid-chas-ataki-na-odesu",
     "Голова ОВА Кіпер розкрив, як загинула жінка під час атаки на Одесу", pl("Odesa"), True, {"killed": 1}),
    ("h18", "uk", "2024-03-15T18:00", "https://interfax.com.ua/news/general/973711.html",
     "Кількість загиблих в Одесі внаслідок ракетного удару збільшилася до 14 осіб, ще 46 поранено - ОВА",
     pl("Odesa"), True, {"killed": 14, "injured": 46}),
    ("h19", "uk", "2024-04-24T08:00", "https://fun.my.ua/uk/news/cluster/2024-04-24-vrantsi-rosiiski-viiska-vdarili-po-odesi-poshkodzheni-tridtsiat-budinkiv/558ed051-5d2f-7bfd-3c64-6db17cb6150e",
     "Росія завдала ракетного удару по Одесі: що відомо про наслідки", pl("Odesa"), True, {}),
    ("h20", "uk", "2023-12-29T09:00", "https://rbc.ua/rus/news/odesi-dvoe-zagiblih-ta-bagato-poranenih-vnaslidok-1703838139.html/amp",
     "Одеса сьогодні зранку знову опинилася під ударом ворога. Внаслідок ракетної атаки двоє людей загинули.",
     pl("Odesa"), True, {"killed": 2}),
    ("h21", "uk", "2025-11-20T21:00", "https://glavred.net/war/rossiya-atakovala-zaporozhe-kabami-v-ova-soobshchili-o-pogibshih-i-ranenyh-10717457.html",
     "Росія атакувала Запоріжжя дронами-камікадзе КАБ. Загинули 5 людей, 3 отримали поранення", pl("Zaporizhzhia"), True,
     {"killed": 5, "injured": 3}),
    ("h22", "uk", "2025-08-10T19:30", "https://www.rbc.ua/rus/news/rosiyani-kabom-roznesli-avtovokzal-zaporizhzhi-1754842365.html/amp",
     "Вісім постраждалих, один з них - у важкому стані - такі попередні наслідки ворожої атаки на Запоріжжя.", pl("Zaporizhzhia"), True, {"injured": 8}),
    ("h23", "ru", "2024-11-16T20:00", "https://ru.interfax.com.ua/news/general/1021759.html",
     "Враг ударил УАБ по центру Запорожья, есть раненый – Федоров", pl("Zaporizhzhia"), True, {"injured": 1}),
    ("h24", "uk", "2025-10-30T12:00", "https://www.radiosvoboda.org/a/news-fedorov-rosiiski-viiska-ataka-zaporizkyi-raion/33577386.html",
     "Росіяни ударили FPV-дроном по Малокатеринівці. Поранені 33-річний та 56-річний чоловіки.",
     pl("Malokaterynivka"), True, {"injured": 2}),
    ("h25", "uk", "2025-09-16T09:00", "https://nikvesti.com/news/incidents/309140-obstril-mykolaivshchyny-15-veresnia",
     "Того ж дня росіяни 11 разів атакували Очаків дронами FPV. Пошкоджено шість приватних та два двоповерхові житлові будинки.",
     pl("Ochakiv"), True, {}),
    ("h26", "uk", "2024-06-01T10:00", "https://itvi.cc/?p=48824",
     "У Миколаєві через падіння уламків пошкоджені будинки, поранені 11 людей", pl("Mykolaiv"), True, {"injured": 11}),
    ("h27", "uk", "2024-02-11T10:54", "https://regionews.ua/ukr/news/ukraine/1707641613-nichna-ataka-droniv-shcho-vidomo-pro-naslidki-po-oblastyah",
     "Російські окупанти в ніч на 11 лютого атакували Миколаїв дронами-камікадзе. Внаслідок влучань виникла пожежа.",
     pl("Mykolaiv"), True, {}),
    ("h28", "uk", "2025-05-22T08:00", "https://www.0512.com.ua/amp/news/3948951/obijslosa-bez-postrazdalih-mer-rozpoviv-za-naslidki-ataki-po-mikolaevu",
     "У ніч на 22 травня російські війська знову атакували Миколаїв і його передмістя дронами-камікадзе \"Shahed 131/136\".",
     pl("Mykolaiv"), True, {}),
    ("h29", "uk", "2023-03-18T09:00", "https://www.kontentmedia.com.ua/2023/03/18/nichna-ataka-rosijskykh-droniv-na-ukraini-ie-vluchannia/",
     "Три БпЛА збили сили ППО, ще два поцілили по об‘єкту критичної інфраструктури в Новомосковську.",
     pl("Novomoskovsk"), True, {}),
    ("h30", "uk", "2025-09-22T09:00", "https://interfax.com.ua/news/general/1106378.html",
     "У сел. Борова загинув 47-річний чоловік, постраждали 52-річний і 60-річний чоловіки.",
     pl("Borova"), True, {"killed": 1, "injured": 2}),
    ("h31", "ru", "2024-05-19T12:00", "https://kp.ua./incidents/a690464-v-rezultate-obstrela-kupjanskoho-rajona-pohibli-pjat-chelovek",
     "В результате обстрела из РСЗО с. Новоосиново и с. Ковшаровка погибли пять гражданских граждан, девять травмированы.",
     pl("Novoosynove", "Kivsharivka"), True, {"killed": 5, "injured": 9}),
    ("h32", "ru", "2024-01-11T09:00", "https://ru.interfax.com.ua/news/general/929270.html",
     "В четверг, около 6:50, российские оккупационные войска обстреляли Ковшаровку Купянского района Харьковской области.",
     pl("Kivsharivka"), True, {}),
    ("h33", "ru", "2025-08-14T08:50", "https://www.objectiv.tv/objectively/2025/08/14/pogib-muzhchina-ranena-zhenshhina-sinegubov-o-sutkah-na-harkovshhine/",
     "В пос. Ковшаровка Купянской громады погиб 48-летний мужчина; в г. Купянск пострадала 72-летняя женщина.",
     pl("Kivsharivka", "Kupiansk"), True, {"killed": 1, "injured": 1}),
    ("h34", "uk", "2023-06-20T09:00", "https://www.newsroom.kh.ua/news/za-dobu-vid-obstriliv-harkivskoyi-oblasti-zagynulo-dvoye-lyudey-synyegubov",
     "На жаль, унаслідок артилерійського обстрілу села Стариця Чугуївського району загинули двоє мирних жителів.",
     pl("Starytsia"), True, {"killed": 2}),
    ("h35", "uk", "2025-09-11T10:00", "https://tsn.ua/ukrayina/khloptsia-riatuvaly-misiats-iaka-dolia-postrazdaloho-cherez-obstril-kupianskoho-rayonu-2910326.html",
     "Через обстріл Куп’янського району 16 серпня є жертва. Як відомо, російські окупанти обстріляли с. Піщане. "
     "Внаслідок атаки поранень дістав підліток.",
     pl("Pishchane (Kupiansk)"), True, {"injured": 1}),
    ("h36", "uk", "2022-09-01T09:00", "https://www.057.ua/news/3466963/za-dobu-okupanti-obstrilali-dva-rajoni-harkivsini-odna-ludina-zaginula-sim-poraneno",
     "Вчора вдень ворог вкотре завдав ракетного удару по смт Печеніги Чугуївського району. Ракета влучила в землю біля "
     "дамби Печенізького водосховища.",
     pl("Pechenihy"), True, {}),
    ("h37", "ru", "2026-02-28T09:00", "https://news.ru/regions/hinshtejn-raskryl-posledstviya-ataki-vsu-na-kurskuyu-oblast2802",
     "В Курске в результате атаки БПЛА погиб работник автосервиса, а трое мужчин получили травмы.",
     pl("Kursk"), True, {"killed": 1, "injured": 3}),
    ("h38", "ru", "2026-03-01T09:00", "https://360.ru/news/proisshestviya/chetyre-mirnyh-zhitelja-postradali-v-kurskom-prigraniche-iz-za-atak-vsu/",
     "Накануне FPV-дрон атаковал дом в поселке Хомутовка. В результате удара пострадала 35-летняя женщина и 37-летний мужчина.",
     pl("Khomutovka"), True, {"injured": 2}),
    ("h39", "uk", "2026-02-04T10:00", "https://unn.ua/news/rosiiany-vdaryly-po-rynku-u-druzhkivtsi-vidomo-pro-7-zahyblykh-ova",
     "У Дружківці на Донеччині внаслідок російського обстрілу касетними боєприпасами загинули щонайменше 7 людей, ще 8 людей отримали поранення.",
     pl("Druzhkivka"), True, {"killed": 7, "injured": 8}),
    ("h40", "uk", "2026-03-02T12:00", "https://unn.ua/news/rosiiany-obstrilialy-kramatorsk-ta-druzhkivku-5-zahyblykh-i-13-poranenykh",
     "Близько 8 години росіяни ударили по Краматорську: убили 3 людей, поранили ще 2. Згодом, близько 10 години, під обстріл потрапила Дружківка: там наразі відомо про 2 загиблих і 11 поранених.",
     pl("Kramatorsk", "Druzhkivka"), True, {"killed": 5, "injured": 13}),
    ("h41", "uk", "2025-09-25T09:00", "https://www.radiosvoboda.org/a/news-donechchyna-udary-rf/33540632.html",
     "У Костянтинівці чотири людини загинули і 11 поранені, пошкоджено 49 приватних будинків.", pl("Kostiantynivka"), True,
     {"killed": 4, "injured": 11}),
    ("h42", "uk", "2024-08-24T18:00", "https://amp.dw.com/uk/obstrili-rosieu-ukraini-u-kostantinivci-patero-zagiblih/a-70039555",
     "Обстріли Росією України: у Костянтинівці п'ятеро загиблих", pl("Kostiantynivka"), True, {"killed": 5}),
    ("h43", "uk", "2025-09-24T10:00", "https://www.radiosvoboda.org/a/news-sumshchyna-ataka-rosiiskoho-drona-poranenyi/33539561.html",
     "Внаслідок удару російського дрона по селу в Шалигінській громаді постраждав цивільний.", pl("Shalyhyne"), True,
     {"injured": 1}),
    ("h44", "uk", "2025-04-01T12:00", "https://ukrnews.online/obstril-shostkinskoi-gromadi",
     "Обстріл Шосткинської громади: РФ атакувала, поранено 6 людей, є руйнування", pl("Shostka"), True, {"injured": 6}),
    ("h45", "uk", "2023-09-24T09:00", "https://suspilne.media/amp/579677-ataka-dronami-j-raketami-na-odesini-obstril-hersona-ak-minula-nic-u-regionah/",
     "Сумщина: вночі росіяни здійснили обстріл Середино-Будської громади. Зафіксовано 10 вибухів з міномету.",
     pl("Seredyna-Buda"), True, {}),
    ("h46", "uk", "2023-09-24T09:05", "https://suspilne.media/amp/579677-ataka-dronami-j-raketami-na-odesini-obstril-hersona-ak-minula-nic-u-regionah/",
     "На Миколаївщині сили ППО знищили крилату ракету. Вранці росіяни з артилерії обстріляли м. Очаків.",
     pl("Ochakiv"), True, {}),
    ("h47", "uk", "2023-09-24T09:10", "https://suspilne.media/amp/579677-ataka-dronami-j-raketami-na-odesini-obstril-hersona-ak-minula-nic-u-regionah/",
     "На ранок росіяни ударили з авіації по населених пунктах Ольгівка та Львове.", pl("Olhivka (Beryslav)", "Lvove"), True, {}),
    ("h48", "uk", "2023-12-24T10:00", "https://suspilne.media/kherson-24-12",
     "Як повідомляє пресслужба прокуратури області, 23 грудня близько 16:00 росіяни атакували “шахедами” Станіславську громаду. Загинув 69-річний чоловік.",
     pl("Stanislav"), True, {"killed": 1}),
    ("h49", "uk", "2022-06-27T18:00", "https://rubryka.com/2022/06/27/okupanty-obstrilyaly-evakuatsijnu-kolonu-pid-harkovom-shho-vidomo/amp",
     "Голова Полтавської ОВА Дмитро Лунін заявив, що ракети влучили в цивільний об'єкт у Кременчуці, є постраждалі.",
     pl("Kremenchuk"), True, {}),
    ("h50", "uk", "2025-07-12T09:00", "https://volyninfa.com.ua/news/2025/07/12/369403",
     "В результаті ворожого удару у Луцьку був знищений окремий приватний житловий будинок.", pl("Lutsk"), True, {}),
    ("h51", "uk", "2023-08-15T08:00", "https://portal.lviv.ua/news/2023/08/15/rosiiany-vdaryly-raketamy-po-lutsku-ie-postrazhdali",
     "Росіяни вдарили ракетами по Луцьку. Є постраждалі", pl("Lutsk"), True, {}),
    ("h52", "uk", "2025-08-21T07:00", "https://tsn.ua/ukrayina/rosiia-vdaryla-raketamy-i-bezpilotnykamy-po-lutsku-pershi-detali-vid-vlady-2895290.html",
     "Нагадаємо, внаслідок ракетного удару цієї ночі у Мукачеві сталася пожежа. До лікарні Святого Мартина "
     "доправлено каретами швидкої допомоги 10 осіб, ще двоє постраждалих звернулися самостійно.",
     pl("Mukachevo"), True, {"injured": 12}),
    ("h53", "uk", "2024-08-26T09:00", "https://vijna.novyny.live/u-lutsku-lunali-vibukhi-vnaslidok-vorozhoyi-ataki-poshkodzheno-bagatokvartirnii-budinok-195259.html",
     "Внаслідок ворожого обстрілу в Луцьку було пошкоджено багатоквартирний житловий будинок.", pl("Lutsk"), True, {}),
    ("h54", "uk", "2025-02-13T10:00", "https://fun.my.ua/uk/news/cluster/2025-02-13-v-moldove-soobshchili-o-rossiiskikh-dronakh-kotorye-zaletali-iz-ukrainy-odin-iz-nikh-vzorvalsia/a46b1656-7f53-3f34-e8e2-04739df09a1d",
     "Один із дронів вибухнув за 1,5 км від Чадир-Лунги.",
     pl("Ceadir-Lunga"), True, {}),
    ("h56", "uk", "2025-09-25T09:05", "https://www.radiosvoboda.org/a/news-donechchyna-udary-rf/33540632.html",
     "У Дружківці поранено людину, пошкоджено 30 приватних будинків і газогін; в Олексієво-Дружківці одна людина загинула.",
     pl("Druzhkivka", "Oleksiievo-Druzhkivka"), True, {"killed": 1, "injured": 1}),
    ("h57", "ru", "2023-01-11T09:00", "https://ru.interfax.com.ua/news/general/929270.html",
     "В результате обстрелов Купянска поврежден частный дом. Тяжелое ранение получил мужчина около 55 лет, умерший в больнице.",
     pl("Kupiansk"), True, {}),
    ("h58", "uk", "2025-04-01T09:00", "https://www.steena.com.ua/04/2025/filashkin-za-dobu-na-donechchyni-5-zahyblykh-i-12-poranenykh-cherez-obstrily-rf/40524",
     "Філашкін: за добу на Донеччині 5 загиблих і 12 поранених через обстріли РФ", [], True, {"killed": 5, "injured": 12}),
    # added after the first measurement (split per item, so no earlier item moved)
    ("h59", "ru", "2024-09-25T12:00", "https://zona.media/news/2024/09/25/zaporozhye",
     "В результате российского удара по Запорожью пострадали семь человек, сообщает глава Запорожской области Иван Федоров.",
     pl("Zaporizhzhia"), True, {"injured": 7}),
    ("h60", "uk", "2024-06-01T10:00", "https://online.zp.ua/na-zaporijji-vnaslidok-vorojih-obstriliv-zaginyv-mirnii-jitel",
     "Внаслідок удару росіян по Оріхівській громаді Запорізької області загинув 48-річний чоловік.",
     pl("Orikhiv"), True, {"killed": 1}),
    ("h61", "uk", "2023-11-01T12:00", "https://mind.ua/news/amp/20261146-okupanti-obstrilyali-punkt-vidachi-gumdopomogi-v-bilozerci",
     "Окупанти обстріляли Білозерку на Херсонщині. Про це повідомив голова ОВА Олександр Прокудін.",
     pl("Bilozerka"), True, {}),
    ("h62", "uk", "2025-10-11T12:00", "https://lb.ua/society/2025/10/11/700999_unaslidok_rosiyskogo_obstrilu.html",
     "У передмісті Херсона російські військові обстріляли селище Білозерка. Унаслідок обстрілів загинув цивільний.",
     pl("Bilozerka"), True, {"killed": 1}),
    ("h63", "ru", "2024-05-10T12:00", "https://interfax.com.ua/news/general/1001270.html",
     "Российские войска обстреляли Белозерку Херсонской области, в результате чего погибла 72-летняя местная жительница, "
     "сообщил глава ОВА Александр Прокудин.", pl("Bilozerka"), True, {"killed": 1}),
    ("h64", "uk", "2024-05-10T18:00", "https://unn.ua/amp/rosiiany-vypustyly-po-bilozertsi-na-khersonshchyni-blyzko-40-snariadiv-vzhe-vidomo-pro-dvokh-zahyblykh-sered-poranenykh-medpratsivnyky",
     "російські війська випустили по Білозерці Херсонської області близько сорока снарядів, унаслілдок чого вже відомо про двох загиблих.",
     pl("Bilozerka"), True, {"killed": 2}),
    ("h65", "ru", "2024-06-01T15:00", "http://inkorr.com/ru/rf-obstrilala-herson-ta-jogo-okolici-e-zagiblij-ta-poraneni-200752",
     "Российские военные днем обстреляли Херсон и Херсонский район, убив, по предварительной информации, одного человека "
     "и ранив еще 8 человек.", pl("Kherson"), True, {"killed": 1, "injured": 8}),
    ("h66", "uk", "2025-09-24T12:00", "https://lb.ua/society/2025/09/24/698074_rosiyani_vdarili_tsivilniy.html",
     "Близько години тому у Ворожбянській громаді ворожий дрон влучив в автівку з людьми. Попередньо постраждала жінка, "
     "їй надають медичну допомогу.", pl("Vorozhba"), True, {"injured": 1}),
    ("h67", "uk", "2023-05-24T10:00", "https://city.sumy.ua/vijna/u-sumskij-ova-poinformuvaly-pro-ataky-rosijskyh-okupantiv-za-mynulyj-den/",
     "Окрім вогню артилерії та мінометів, ворог із систем РСЗВ обстріляв населений пункт Велика Писарівка, де були "
     "пошкоджені житлові будівлі, автотехніка та сільськогосподарське обладнання.", pl("Velyka Pysarivka"), True, {}),
    ("h68", "uk", "2022-12-10T09:00", "https://interfax.com.ua/news/general/877554-amp.html",
     "Російські окупанти близько 21:00 вечора в п'ятницю завдали ракетного удару по території Великописарівської "
     "об'єднаної територіальної громади Охтирського району Сумської області.", pl("Velyka Pysarivka"), True, {}),
    ("h69", "uk", "2023-09-19T12:00", "https://www.ostro.org/news/dvoye-meshkantsiv-prykordonnoyi-krasnopilskoyi-gromady-sumshhyny-zagynuly-cherez-vorozhyj-i491302",
     "Через ворожий артобстріл прикордонної Краснопільської громади Сумської області загинули двоє людей минулої доби.",
     pl("Krasnopillia (Sumy)"), True, {"killed": 2}),
    ("h70", "uk", "2023-09-14T20:00", "https://kyivweekly.com/ukraine/rosijski-vijska-protyagom-dnya-obstrilyali-chotiri-gromadi-sumsko%d1%97-oblasti",
     "Раніше міністр внутрішніх справ України Ігор Клименко повідомив, що в с. Пожня Сумської області внаслідок "
     "російського обстрілу загинув 16-річний підліток.", pl("Pozhnia"), True, {"killed": 1}),
    ("h71", "ru", "2025-09-06T12:00", "https://life.ru/p/1787093",
     "В результате атаки беспилотников Вооружённых сил Украины на посёлок Климово в Брянской области получил ранение "
     "местный житель.", pl("Klimovo"), True, {"injured": 1}),
    ("h72", "ru", "2023-08-29T18:00", "https://www.vedomosti.ru/society/news/2023/08/29/992452-pri-obstrele-vsu-pogib-rebenok",
     "При обстреле ВСУ поселка Климово в Брянской области погиб ребенок", pl("Klimovo"), True, {"killed": 1}),
    ("h73", "ru", "2024-04-09T15:00", "https://meduza.io/amp/news/2024/04/09/glava-bryanskoy-oblasti-soobschil-o-gibeli-zhenschiny-i-rebenka-v-rezultate-obstrela-poselka-klimovo",
     "В Брянской области в поселке Климово, расположенном недалеко от границы с Украиной, в результате артиллерийского "
     "обстрела погибли женщина и ребенок, написал в телеграм-канале глава региона Александр Богомаз.",
     pl("Klimovo"), True, {"killed": 2}),
    ("h75", "uk", "2024-09-01T10:00", "http://inform.sumy.ua/news1/index.php?id=2266385",
     "У Великій Писарівці на Сумщині 1 вересня – по-справжньому сумне. росіяни 31 серпня стріляли по селищу з "
     "артилерії (11 вибухів), а також FPV-дронами.", pl("Velyka Pysarivka"), True, {}),
    # not events (weather, sports, civic news): no claim expected
    ("n01", "uk", "2025-07-05T10:00", "https://antikor.info/articles/778364-v_ukrainu_nadvigaetsja_hara_40/print",
     "До України прямує сильна спека – найближчими днями очікується до +40°C, – синоптикиня Птуха.", [], False, {}),
    ("n02", "ru", "2025-06-30T10:00", "http://ankerch.crimea.ua/iyul-v-ukraine-nachnetsya-s-32-gradusnoy-zharyi",
     "Июль в Украине начнется с 32-градусной жары", [], False, {}),
    ("n03", "uk", "2025-07-31T10:00", "https://bankovatoday.com/kinecz-lypnya-bude-spekotnym-de-ochikuvaty-do-36",
     "Справжня спека охопить південний схід: у Краматорську — до +31°, у Сєвєродонецьку — до +33°.", [], False, {}),
    ("n04", "ru", "2024-07-22T10:00", "https://focus.ua/amp/ukraine/658910-prognoz-pogody-gde-proydut-dozhdi-s-grozami",
     "Во Львове, Луцке, Тернополе и Черновцах прогнозируют небольшую облачность и легкие дожди.", [], False, {}),
    ("n05", "uk", "2025-07-27T10:00", "https://bukvy.org/?p=252416",
     "Дощі, спека і град: якою буде погода в Україні 28 липня", [], False, {}),
    ("n06", "uk", "2024-12-30T10:00", "https://rubryka.com/2022/06/27/okupanty-obstrilyaly-evakuatsijnu-kolonu-pid-harkovom-shho-vidomo/amp",
     "Всесвітня боксерська рада (WBC) назвала найкращого боксера та боксерку 2024 року.", [], False, {}),
    ("n07", "uk", "2024-12-30T10:05", "https://rubryka.com/2022/06/27/okupanty-obstrilyaly-evakuatsijnu-kolonu-pid-harkovom-shho-vidomo/amp",
     "У Нововоронцовській громаді, що на Херсонщині, запрацювала перша свердловина на сонячній енергії.", [], False, {}),
    ("n08", "uk", "2025-07-19T10:00", "https://bukvy.org/kontrastni-vyhidni-zi-spekoyu-ta-doshhem",
     "У Покровському районі Донецької області ймовірні грози з опадами до 8 мм.",
     [], False, {}),
    ("n09", "uk", "2025-06-13T22:01", "https://fakty.ua/380231-dozhdi-ne-spasut-sinoptiki-rasskazali-o-pogode-v-blizhajshie-dni",
     "Кабмін передав частину функцій від органів соцзахисту до Пенсійного фонду: що важливо знати", [], False, {}),
]

# March 2025 VIINA headlines (row index in ../shared/data/events/viina_headlines_2025-03.csv), labelled here: dev only.
MARCH = [
    (1384, pl("Kharkiv"), True, {}), (1653, pl("Kharkiv", "Dobropillia"), True, {}), (1921, pl("Bohuslavka"), True, {}),
    (1944, [], True, {"killed": 1, "injured": 6}), (2170, pl("Ivano-Frankivsk"), True, {}), (2420, pl("Okhtyrka"), True, {}),
    (2740, pl("Vovchansk", "Kamianka (Kupiansk)", "Krasne Pershe"), True, {}),
    (2833, pl("Kostiantynopil", "Rozlyv"), True, {}), (3320, pl("Kupiansk"), True, {}), (3676, pl("Skadovsk"), True, {}),
    (3754, pl("Bilozerka"), True, {"killed": 1}), (3930, pl("Toretsk"), True, {}), (4159, pl("Sumy"), True, {"injured": 88}),
    (4406, pl("Kharkiv", "Zolochiv (Kharkiv)"), True, {}),
    (966, [], False, {}), (1498, [], False, {}), (1770, [], False, {}), (2167, [], False, {}), (2448, [], False, {}),
    (4010, [], False, {}), (5146, [], False, {}), (4861, [], False, {}),
]


# (id, url, published, text, base place name or (lat, lon, locator km), position offset (km, bearing) or None,
#  event offset (lo km, hi km, bearing) or None, negated)
def loc(city: str, km: float, bearing: str) -> tuple[float, float, float]:
    la, lo = move(*P[city], km, bearing)
    return (la, lo, km)


PATROL = [
    ("p01", "https://reliefweb.int/report/ukraine/spot-report-osce-special-monitoring-mission-ukraine-smm-outgoing-explosions-near-smm",
     "2018-09-05T12:00",
     "On the morning on 5 September, the SMM camera in Zolote (government-controlled, 60km west of Luhansk) recorded, between 08:35 and 10:13, nine explosions assessed as impacts of grenades fired from an automatic grenade launcher 1.4-1.6km south-east and south-south-east.",
     "Zolote", None, (1.4, 1.6, 146.25), False),
    ("p02", "http://en.interfax.com.ua/news/general/418926.html", "2017-04-28T14:00",
     "On April 28, a patrol consisting of six members and two armored vehicles was positioned at an 'LPR'-checkpoint approximately 1.5km south-west of 'LPR'-controlled Molodizhne (63km north-west of Luhansk), speaking with an armed 'LPR' member. At 12:20, from inside their vehicles, the SMM heard an explosion assessed as an airburst about 50-100m north-west.",
     loc("Luhansk", 63, "NW"), (1.5, "SW"), (0.05, 0.1, "NW"), False),
    ("p03", "http://en.interfax.com.ua/news/general/418926.html", "2017-04-28T14:00",
     "In addition, on April 28, a separate SMM patrol consisting of five members and two armored vehicles was positioned at an observation post about 50m west of an 'LPR' position located 1 km north-west of 'LPR'-controlled Kruta Hora (16 km north-west of Luhansk). At about 10:35, while all SMM patrol members were outside of their vehicles, the patrol heard a shot of small-arms fire approximately 40-50 m south.",
     loc("Luhansk", 16, "NW"), (1.0, "NW"), (0.04, 0.05, "S"), False),
    ("p04", "https://research.uaposition.com/osce/latest-from-osce-special-monitoring-mission-smm-to-ukraine-based-on-information-received-as-of-1930hrs-8-october-2015",
     "2015-10-08T19:30",
     "Positioned 8km north-west of \"Donetsk People's Republic\" (\"DPR\")-controlled Donetsk city centre, the SMM heard two explosions 5-7km to the north-north-west and west-north-west at 11:55.",
     "Donetsk", (8.0, "NW"), (5.0, 7.0, "NW"), False),
    ("p05", "https://www.unian.info/war/1146432-osce-records-several-explosions-in-donbas-this-week.html", "2015-10-06T19:30",
     "At 17:51 the SMM heard one undetermined explosion 4.5km north-east of its position in the area of \"DPR\"-controlled Spartak (8km north-west of Donetsk).",
     "Spartak", None, (4.5, 4.5, "NE"), False),
    ("p06", "https://www.unian.info/war/1146432-osce-records-several-explosions-in-donbas-this-week.html", "2015-10-06T19:30",
     "At the Joint Centre for Control and Co-ordination observation point at \"DPR\"-controlled Donetsk railway station (8km north-west of Donetsk city center), the SMM heard between 09:34 and 12:02 four bursts of small-arms fire 3-4km west of its location.",
     loc("Donetsk", 8, "NW"), None, (3.0, 4.0, "W"), False),
    ("p07", "https://www.unian.info/war/1239970-osce-reports-truce-violations-north-east-of-ukrainian-mariupol-around-horlivka.html",
     "2016-01-17T19:30",
     "The situation remained tense in and around \"Donetsk People's Republic\" (\"DPR\")-controlled Kominternove (23km north-east of Mariupol). Positioned immediately south-west of the village between 11:45 and 11:57hrs on January 16, the SMM heard 30-35 single shots of small-arms and three bursts of heavy-machine-gun fire to the west-south-west. At 12:53hrs, the SMM heard one undetermined explosion and at 13:22hrs, three undetermined explosions, 10-15km to the south-south-west.",
     "Pikuzy", None, (10.0, 15.0, "SSW"), False),
    ("p08", "https://www.unian.info/war/1239970-osce-reports-truce-violations-north-east-of-ukrainian-mariupol-around-horlivka.html",
     "2016-01-17T19:30",
     "Whilst in government-controlled Chermalyk (31km north-east of Mariupol) at 11:14hrs, the monitors heard three single shots of small-arms to the east.",
     "Chermalyk", None, None, False),
    ("p09", "https://www.unian.info/war/1239970-osce-reports-truce-violations-north-east-of-ukrainian-mariupol-around-horlivka.html",
     "2016-01-16T19:30",
     "The SMM also said they heard several bursts of small-arms fire 2km to the west in \"DPR\"-controlled Horlivka (39km north-east of Donetsk) between 12:10 and 12:50hrs on January 16.",
     "Horlivka", None, (2.0, 2.0, "W"), False),
    ("p10", "http://osce.org/special-monitoring-mission-to-ukraine/311446", "2017-04-12T19:30",
     "On the same day, another SMM patrol consisting of ten members and three armoured vehicles, intending to travel towards government-controlled areas, was positioned at the last \"LPR\" checkpoint before the contact line 1.5km south-west of Molodizhne (63km north-west of Luhansk) and about 1km south-east of the contact line. At 10:30, while at the checkpoint inside the vehicles, the SMM heard four bursts of heavy-machine-gun fire about 2km west and six to seven explosions, assessed as impacts of automatic grenade launcher fire approximately 0.5km south of its position.",
     loc("Luhansk", 63, "NW"), (1.5, "SW"), (0.5, 0.5, "S"), False),
    ("p11", "http://osce.org/special-monitoring-mission-to-ukraine/311446", "2017-04-12T19:30",
     "The SMM left the area immediately and reached \"LPR\"-controlled Pervomaisk (58km west of Luhansk). At 10:53, positioned in Pervomaisk, outside the vehicles, the SMM heard three to four undetermined explosions 0.5km west.",
     "Pervomaisk (Luhansk)", None, (0.5, 0.5, "W"), False),
    ("p12", "https://www.unian.info/war/10124180-osce-smm-reports-undetermined-explosion-close-to-its-patrols-in-luhansk-region.html",
     "2018-05-20T12:00",
     "At 11:04 on May 20, two SMM patrols consisting of ten members and four armored vehicles positioned themselves about 20m south of a checkpoint of the armed formations inside the disengagement area near Zolote (government-controlled, 60km west of Luhansk) on its southern edge. At 11:06, the patrol members heard an undetermined explosion 300-500m north (assessed as inside the disengagement area).",
     "Zolote", (1.5, "S"), (0.3, 0.5, "N"), False),
    ("p13", "https://www.unian.info/war/10607319-osce-reports-gunfire-in-close-vicinity-of-smm-patrol-members-at-zolote-disengagement-area.html",
     "2019-07-04T12:00",
     "On 4 July, an SMM patrol consisting of four members and two armoured vehicles was positioned at the checkpoint of the armed formations on the southern edge of the Zolote disengagement area ( 60km west of Luhansk) preparing to conduct a mini-unmanned aerial vehicle flight. At 11:55, the SMM patrol members, two of whom were outside and two inside the vehicles, with doors open, heard 30-40 bursts of heavy-machine gun and 20-30 shots of small-arms fire, all assessed as originating 1-2km north-north-west of their position.",
     "Zolote", (1.5, "S"), (1.0, 2.0, "NNW"), False),
    ("p14", "https://reliefweb.int/report/ukraine/spot-report-special-monitoring-mission-ukraine-smm-explosion-occurs-less-300m-smm",
     "2018-05-30T12:00",
     "At 10:22 on 30 May, an SMM patrol consisting of six members and two armoured vehicles arrived at the SMM camera site just outside the disengagement area near Petrivske (41km south of Donetsk). At 10:58 the patrol members were stationary in two vehicles with the doors open when they all heard a whistling sound followed by an explosion, and saw dark grey smoke coming from behind an abandoned brick farm building, 200-300m south-south-west, assessed as outside the disengagement area. The SMM assessed that the explosion was caused by an impacting mortar round (82mm).",
     loc("Donetsk", 41, "S"), None, (0.2, 0.3, "SSW"), False),
    ("p15", "https://reliefweb.int/report/ukraine/three-impacts-close-smm-near-zolote-disengagement-area", "2019-02-04T12:00",
     "On 4 February, an SMM patrol consisting of five members and two armoured vehicles was positioned near a checkpoint of the Ukrainian Armed Forces, approximately 300m north of the disengagement area near Zolote (government-controlled, 60km west of Luhansk), to monitor the security situation. Between 10:25 and 10:30, two patrol members, who were standing next to the vehicles, heard five undetermined explosions at an assessed range of 2-3km east and south-south-east.",
     "Zolote", None, (2.0, 3.0, 123.75), False),
    ("p16", "https://reliefweb.int/report/ukraine/osce-smm-spot-report-242020-explosions-near-smm-patrol-members-close-berezivske",
     "2020-05-15T15:00",
     "On 15 May, an SMM patrol comprising six members and two vehicles was positioned on the south-western edge of Berezivske (non-government-controlled, 53km north-west of Luhansk) to monitor adherence to a localized ceasefire to facilitate repairs of water infrastructure in the area, and to conduct an announced mini-unmanned aerial vehicle (UAV) flight to follow up on reports of damage in the settlement. At 13:36, while the SMM mini-UAV was in the process of landing (and at an altitude of 5m from the ground), four SMM patrol members outside the vehicles saw two incoming flaming projectiles explode in the air, and subsequently saw and heard two explosions and smoke at an altitude of about 80m-100m from the ground, and at an assessed distance of 20m north-north-west of the patrol’s position.",
     loc("Luhansk", 53, "NW"), None, (0.02, 0.02, "NNW"), False),
    ("p17", "https://osce.org/special-monitoring-mission-to-ukraine/307681", "2017-03-26T15:00",
     "At 12:45 on 26 March, an SMM patrol of four mission members in two armoured vehicles stopped 500m north-east of government-controlled Orikhove-Donetske (44km north-west of Luhansk). Less than half a minute later, the SMM heard ten single shots of small-arms fire 200-300 metres west.",
     loc("Luhansk", 44, "NW"), (0.5, "NE"), (0.2, 0.3, "W"), False),
    ("p18", "https://osce.org/ukraine-smm/260211", "2016-08-16T19:30",
     "Positioned in \"DPR\"-controlled Yasynuvata (16km north-east of Donetsk) the SMM recorded approximately ten undetermined explosions and five bursts of heavy-machine-gun fire in areas 2-3km west-south-west of its position.",
     "Yasynuvata", None, (2.0, 3.0, "WSW"), False),
    ("p19", "https://osce.org/ukraine-smm/260211", "2016-08-16T19:30",
     "Positioned in government-controlled Avdiivka (17km north of Donetsk), the SMM heard 23 explosions assessed as outgoing mortar (82mm) rounds, nine as outgoing self-propelled grenades (SPG-9), 16 as outgoing rounds of armoured-combat-vehicle (BMP-1) gun (73mm) fire, two as outgoing automatic-grenade-launcher rounds, three as impacts of mortar rounds (82mm) and one five-second-long outgoing salvo of multiple-launch rocket system (MLRS; BM-21 Grad, 122mm) fire, as well as small-arms fire all 2-6km south-east of its position.",
     "Avdiivka", None, (2.0, 6.0, "SE"), False),
    ("p20", "https://osce.org/ukraine-smm/260211", "2016-08-16T19:30",
     "While in Donetsk city centre on the night of 15-16 August, the SMM heard 143 undetermined explosions 8-10km north-north-west.",
     "Donetsk", None, (8.0, 10.0, "NNW"), False),
    ("p21", "http://osce.org/ukraine-smm/247421", "2016-06-16T19:30",
     "During the night of 15 June, whilst in government-controlled Svitlodarsk (57km north-east of Donetsk), the SMM heard 13 explosions assessed as caused by 82mm mortar round (five impacts and eight outgoing rounds) 3-5km east and south-east of its position.",
     "Svitlodarsk", None, (3.0, 5.0, 112.5), False),
    ("p22", "http://osce.org/ukraine-smm/247421", "2016-06-16T19:30",
     "In the early morning, whilst in \"DPR\"-controlled Horlivka (39km north-east of Donetsk), the SMM heard 20 explosions, one of which was assessed as an 82mm mortar round impact and 19 as automatic-grenade-launcher round impacts, all 5km west-south-west of its position.",
     "Horlivka", None, (5.0, 5.0, "WSW"), False),
    ("p23", "https://www.osce.org/ukraine-smm/261086", "2016-08-24T19:30",
     "On the night of 22 August, whilst in Donetsk city centre the SMM heard 15 undetermined explosions 7-9km north-north-west of its position.",
     "Donetsk", None, (7.0, 9.0, "NNW"), False),
    ("p24", "https://www.osce.org/ukraine-smm/260681", "2016-08-21T19:30",
     "Whilst in Donetsk city centre the SMM heard 53 undetermined explosions 4-8km north-north-east of its position on the early morning of 20 August.",
     "Donetsk", None, (4.0, 8.0, "NNE"), False),
    ("p25", "http://osce.org/ukraine-smm/261186", "2016-08-25T19:30",
     "On the night of 24 August, the SMM camera in Avdiivka (government-controlled, 17km north-west of Donetsk), recorded between 19:14 and 19:43 eight explosions, assessed as impacts of rounds from unknown weapon systems, as well as continuous exchanges of fire including uncountable explosions (impacts and outgoing), airbursts and bursts, all 5-7km south-east of its location.",
     "Avdiivka", None, (5.0, 7.0, "SE"), False),
    ("p26", "http://osce.org/ukraine-smm/261186", "2016-08-25T19:30",
     "During the night of 24 August whilst in government-controlled Svitlodarsk (57km north-east of Donetsk), between 19:35 and 22:35, the SMM heard 80 explosions assessed as mortar (82mm) rounds, cannon rounds (BMP-1, 73mm), recoilless gun rounds (SPG-9, 73mm), automatic-grenade-launcher rounds, as well as over 100 bursts of anti-aircraft cannon (ZU-23, 23mm) and heavy-machine-gun fire, all 2-4km south-east, south-south-east and south of its position.",
     "Svitlodarsk", None, (2.0, 4.0, "SSE"), False),
    ("p27", "https://www.unian.net/war/amp-1146151-obse-na-etoy-nedele-zafiksirovala-neskolko-vzryivov-na-donbasse.html",
     "2015-10-06T19:30",
     "В 17:51 СММ слышали один неопределенный взрыв в 4,5 км к северо-востоку от их расположения в области подконтрольного \"ДНР\" Спартака (8 км к северо-западу от Донецка).",
     "Spartak", None, (4.5, 4.5, "NE"), False),
    ("p28", "https://unn.ua/ru/news/obsye-zafiksuvala-u-pervomaysku-na-rizdvo-66-vibukhiv", "2018-01-08T19:30",
     "В подконтрольном \"ЛНР\" Первомайск (58 км к западу от Луганска) 7 января наблюдатели слышали 66 взрывов неопределенного происхождения по 5-10 км на юго-запад (по оценкам, за пределами участка разведения в районе Золотого).",
     "Pervomaisk (Luhansk)", None, (5.0, 10.0, "SW"), False),
    ("p29", "https://unn.ua/ru/news/obsye-zafiksuvala-u-pervomaysku-na-rizdvo-66-vibukhiv", "2018-01-08T19:30",
     "Также отмечается, что ночью 7 января, находясь в подконтрольном \"ЛНР\" г.Кадиевка (прежнее название - Стаханов), 50 км к западу от Луганска, команда СММ слышала 11 взрывов неопределенного происхождения на расстоянии более 10 км на юго-запад.",
     "Kadiivka", None, (10.0, 15.0, "SW"), False),
    ("p30", "https://telegraf.com.ua/ukraina/mestnyiy/3262576-nablyudateli-obse-na-donbasse-popali-pod-vzryivyi-boevikov.html",
     "2017-04-08T19:30",
     "В 11:37, находясь в автомобилях вблизи здания бывшего гуманитарно-логистического центра, расположенного в 2 км к югу от подконтрольного правительству н. п. Отрадовка (59 км к северу от Донецка), наблюдатели услышали и увидели два взрыва в 300 м к югу от своей позиции.",
     loc("Donetsk", 59, "N"), (2.0, "S"), (0.3, 0.3, "S"), False),
    ("p31", "https://ua.korrespondent.net/amp/3935970-v-obse-naschytaly-88-vzryvov-za-sutky-na-donbasse", "2018-01-31T19:30",
     "Вночі і рано-вранці 31 січня камера СММ, встановлена за 1 км на північний захід від с. Широкино (20 км на схід від Маріуполя), зафіксувала 20 снарядів зі сходу на захід, а потім п'ять вибухів невизначеного походження.",
     "Shyrokyne", (1.0, "NW"), None, False),
    ("p32", "https://www.unian.info/war/1239970-osce-reports-truce-violations-north-east-of-ukrainian-mariupol-around-horlivka.html",
     "2016-01-17T19:30",
     "Also on January 17 – positioned on the outskirts of nearby \"DPR\"-controlled Oktiabr (29km north-east of Mariupol) – the SMM heard one explosion to the south-west.",
     loc("Mariupol", 29, "NE"), None, None, False),
    ("p33", "http://uawire.org/an-osce-smm-patrol-came-under-fire-near-donetsk", "2017-08-16T19:30",
     "On August 16, observers of the OSCE Special Monitoring Mission  came under fire on the outskirts of th settlement of Holmivskyi, which is 49 kilometers northeast of Donetsk, reported the mission’s press-service. At 09:14, the three patrol members outside the vehicles heard an undetermined explosion approximately 500m north and another undetermined explosion about 500m south-south-east.",
     "Holmivskyi", None, None, False),
    ("p34", "https://research.uaposition.com/osce/spot-report-by-the-osce-special-monitoring-mission-to-ukraine-smm-smm-team-caught-in-fire-exchange-in-shyrokyne-one-member-injured-by-debris/?amp=1",
     "2015-07-27T19:30",
     "At 11:15hrs on 27 July, an SMM patrol comprised of two vehicles entered Shyrokyne (100km south of Donetsk, 20km east of Mariupol) and found the village to be calm. At 11:25hrs, the SMM heard one shot of automatic grenade fire, outgoing from a north-easterly direction, impacting to the west of the SMM’s position on the western side of the village.",
     "Shyrokyne", None, None, False),
    # negations: nothing happened, no claim expected
    ("q01", "https://research.uaposition.com/osce/latest-from-osce-special-monitoring-mission-smm-to-ukraine-based-on-information-received-as-of-1930hrs-8-january-2016",
     "2016-01-08T19:30",
     "Positioned 6km north-west of Donetsk city centre between 9:00 and 14:20hrs, the SMM did not observe any ceasefire violations.",
     None, None, None, True),
    ("q02", "https://research.uaposition.com/osce/latest-from-osce-special-monitoring-mission-smm-to-ukraine-based-on-information-received-as-of-1930hrs-25-january-2016",
     "2016-01-25T19:30", "In Luhansk region, it observed no ceasefire violations.", None, None, None, True),
    ("q03", "https://reliefweb.int/report/ukraine/osce-special-monitoring-mission-ukraine-smm-daily-report-2162020-issued-10-september",
     "2020-09-10T12:00", "The SMM recorded no ceasefire violations in both Donetsk and Luhansk regions.", None, None, None, True),
    ("q04", "https://regionline.dp.ua/zaginuv-cholovik-ponad-pivtora-desyatka-obstriliv-perezhila-nikopolshhina", "2024-06-01T18:00",
     "В інших громадах області обстрілів не було.", None, None, None, True),
]


def patrol_items() -> list[dict]:
    out = []
    for pid, url, pub, text, base, pos, ev, neg in PATROL:
        item = {"id": pid, "set": "patrol", "url": url, "licence": OSCE, "published_at": pub, "text": text,
                "lang": "ru" if any("\u0400" <= ch <= "\u04ff" for ch in text) else "en", "negated": neg}
        if neg:
            out.append(item)
            continue
        if isinstance(base, tuple):
            lat, lon, loc_km = base
            extra = 0.15 * loc_km
            item["label_from_locator"] = True
        else:
            lat, lon = P[base]
            extra = 1.0
        if pos is not None:
            lat, lon = move(lat, lon, pos[0], pos[1])
        spread = 0.0
        if ev is not None:
            lo_km, hi_km, b = ev
            mid = (lo_km + hi_km) / 2
            lat, lon = move(lat, lon, mid, b)
            spread = (hi_km - lo_km) / 2 + 0.15 * mid
        item.update(lat=round(lat, 4), lon=round(lon, 4), tolerance_km=round(max(2.0, spread) + extra, 2))
        out.append(item)
    return out


def headline_items() -> tuple[list[dict], list[dict]]:
    import csv

    other = [{"id": i, "set": "headlines", "lang": lang, "published_at": pub, "url": url, "licence": NEWS, "text": t,
              "places": places, "event": ev, "casualties": cas}
             for i, lang, pub, url, t, places, ev, cas in HEADLINES]
    paths = [d / "shared" / "data" / "events" / "viina_headlines_2025-03.csv" for d in ROOT.parents]
    path = next((p for p in paths if p.exists()), None)
    march = []
    if path is not None:
        rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
        for idx, places, ev, cas in MARCH:
            r = rows[idx]
            march.append({"id": f"viina{idx}", "set": "headlines", "lang": None, "published_at": r["datetime"],
                          "url": f"viina_headlines_2025-03.csv row {idx}", "licence": VIINA, "text": r["headline"],
                          "places": places, "event": ev, "casualties": cas})
    return other, march


def is_dev(item_id: str) -> bool:
    h = hashlib.sha256(f"{SEED}:{item_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < DEV_SHARE


def split(items: list[dict]) -> tuple[list[dict], list[dict]]:
    return [d for d in items if is_dev(d["id"])], [d for d in items if not is_dev(d["id"])]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    other, march = headline_items()
    h_dev, h_held = split(other)
    p_dev, p_held = split(patrol_items())
    for name, rows in (("dev", h_dev + march + p_dev), ("heldout", h_held + p_held)):
        with (OUT / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(name, len(rows), {s: sum(r["set"] == s for r in rows) for s in ("headlines", "patrol")})


if __name__ == "__main__":
    main()
