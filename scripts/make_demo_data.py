#!/usr/bin/env python3
# ruff: noqa: E501  (the phrase banks are one long line per key on purpose)
"""Generate the demo dataset reviews_service/demo/flinders.json.

"Flinders Design" is a made-up Dutch design-furniture web shop with two
storefronts (flinders-nl, flinders-be). Every review text is assembled from the
hand-written phrase banks below by a seeded RNG, so re-running this script
always rewrites the same file. Standard library only.

    python3 scripts/make_demo_data.py
"""

from __future__ import annotations

import json
import random
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261123
OUT = Path(__file__).resolve().parent.parent / "reviews_service" / "demo" / "flinders.json"
START = datetime(2024, 11, 21, tzinfo=UTC)
END = datetime(2026, 11, 20, tzinfo=UTC)  # last day included

BUSINESS_UNITS = [
    {"slug": "flinders-nl", "name": "Flinders Design", "domain": "flinders.nl", "locales": ["nl", "en"],
     "timezone": "Europe/Amsterdam", "display_scale": 10, "sources": {}},
    {"slug": "flinders-be", "name": "Flinders Design België", "domain": "flinders.be",
     "locales": ["nl", "fr", "de", "en"], "timezone": "Europe/Brussels", "display_scale": 5, "sources": {}},
]

# sku, brand, catalogue name, short name used in texts, kind, popularity weight
PRODUCTS = [
    ("oak-chair", "Flinders", "Flinders Oak Chair – solid oak dining chair", "Oak Chair", "chair", 8),
    ("hay-about-a-chair-aac22-oak", "HAY", "HAY About A Chair AAC22 – oak", "About A Chair", "chair", 22),
    ("vitra-eames-plastic-side-chair-dsw-white", "Vitra", "Vitra Eames Plastic Side Chair DSW – white",
     "Eames DSW", "chair", 12),
    ("muuto-fiber-armchair-wood-base-grey", "Muuto", "Muuto Fiber Armchair Wood Base – grey",
     "Fiber Armchair", "chair", 5),
    ("gubi-beetle-dining-chair-upholstered-black", "Gubi", "Gubi Beetle Dining Chair – fully upholstered, black",
     "Beetle", "chair", 3),
    ("fritz-hansen-series-7-chair-ash", "Fritz Hansen", "Fritz Hansen Series 7 Chair – ash", "Series 7", "chair", 10),
    ("normann-copenhagen-form-chair-black-oak", "Normann Copenhagen", "Normann Copenhagen Form Chair – black/oak",
     "Form Chair", "chair", 3),
    ("spectrum-tulip-dining-chair-black", "Spectrum", "Spectrum Tulip Dining Chair – black", "Tulip", "chair", 1),
    ("hay-cph-deux-210-table-oak", "HAY", "HAY CPH Deux 210 Table 200x75 – oak", "CPH Deux", "table", 7),
    ("muuto-70-70-table-170-oak", "Muuto", "Muuto 70/70 Table 170 – oak", "70/70", "table", 4),
    ("arco-essenza-dining-table-220-oak", "Arco", "Arco Essenza Dining Table 220 – oak", "Essenza", "table", 3),
    ("vitra-eames-coffee-table-walnut", "Vitra", "Vitra Eames Coffee Table – walnut", "Eames Coffee Table",
     "table", 2),
    ("andtradition-in-between-table-200-oiled-oak", "&Tradition", "&Tradition In Between Table 200 – oiled oak",
     "In Between", "table", 1),
    ("louis-poulsen-ph-5-pendant-white", "Louis Poulsen", "Louis Poulsen PH 5 Pendant – white", "PH 5", "lamp", 20),
    ("flos-ic-lights-t1-high-brass", "Flos", "Flos IC Lights T1 High – brass", "IC T1", "lamp", 3),
    ("andtradition-flowerpot-vp3-table-lamp-matt-white", "&Tradition",
     "&Tradition Flowerpot VP3 Table Lamp – matt white", "Flowerpot", "lamp", 8),
    ("moooi-heracleum-iii-pendant", "Moooi", "Moooi Heracleum III Pendant", "Heracleum", "lamp", 2),
    ("gubi-multi-lite-pendant-brass", "Gubi", "Gubi Multi-Lite Pendant – brass", "Multi-Lite", "lamp", 2),
    ("flos-arco-floor-lamp-marble", "Flos", "Flos Arco Floor Lamp – marble base", "Arco lamp", "lamp", 5),
    ("louis-poulsen-panthella-mini-table-lamp-white", "Louis Poulsen", "Louis Poulsen Panthella Mini Table Lamp – white",
     "Panthella Mini", "lamp", 4),
    ("montis-axel-3-seater-sofa-cognac-leather", "Montis", "Montis Axel 3-Seater Sofa – cognac leather", "Axel",
     "sofa", 2),
    ("leolux-bellice-2-5-seater-sofa-sand", "Leolux", "Leolux Bellice 2.5-Seater Sofa – sand", "Bellice", "sofa", 1),
    ("muuto-outline-sofa-3-seater-grey", "Muuto", "Muuto Outline Sofa 3-Seater – grey", "Outline", "sofa", 3),
    ("hay-mags-soft-sofa-2-5-seater-beige", "HAY", "HAY Mags Soft Sofa 2.5-Seater – beige", "Mags", "sofa", 3),
    ("pastoe-vision-cabinet-white", "Pastoe", "Pastoe Vision Cabinet – white", "Vision", "cabinet", 2),
    ("pastoe-l-series-sideboard-oak", "Pastoe", "Pastoe L-Series Sideboard – oak", "L-Series", "cabinet", 1),
    ("muuto-enfold-sideboard-tall-oak", "Muuto", "Muuto Enfold Sideboard Tall – oak", "Enfold", "cabinet", 2),
    ("hay-bias-rug-200x300-blue", "HAY", "HAY Bias Rug 200x300 – blue", "Bias", "rug", 2),
    ("muuto-ply-rug-200x300-rose", "Muuto", "Muuto Ply Rug 200x300 – rose", "Ply", "rug", 2),
    ("normann-copenhagen-tread-rug-200x300-grey", "Normann Copenhagen", "Normann Copenhagen Tread Rug 200x300 – grey",
     "Tread", "rug", 1),
]
# Price range in euros per kind (list prices of such design pieces), and a share of them not in stock
PRICES = {"chair": (249, 899), "table": (899, 2999), "lamp": (199, 1499), "sofa": (1999, 5999),
          "cabinet": (999, 3999), "rug": (399, 1299)}
BACK_ORDER_SHARE = 0.15
URL_DIR = {"chair": "stoelen", "table": "tafels", "lamp": "verlichting", "sofa": "banken", "cabinet": "kasten",
           "rug": "vloerkleden"}
BE_WITHOUT_REVIEWS = {"leolux-bellice-2-5-seater-sofa-sand", "pastoe-l-series-sideboard-oak",
                      "andtradition-in-between-table-200-oiled-oak"}

PLAN = {  # total reviews, language shares, showroom city names per language
    "flinders-nl": dict(total=380, langs={"nl": 0.80, "en": 0.15, "de": 0.05},
                        cities={"nl": ["Amsterdam", "Utrecht"], "en": ["Amsterdam", "Utrecht"],
                                "de": ["Amsterdam", "Utrecht"]}),
    "flinders-be": dict(total=160, langs={"nl": 0.45, "fr": 0.40, "de": 0.10, "en": 0.05},
                        cities={"nl": ["Antwerpen", "Brussel"], "fr": ["Anvers", "Bruxelles"],
                                "de": ["Antwerpen", "Brüssel"], "en": ["Antwerp", "Brussels"]}),
}
RATING_SHARES = {1: 0.07, 2: 0.04, 3: 0.07, 4: 0.20, 5: 0.62}
SHOP_SHARE = 0.40
# (business unit, language) of the 5-star reviews whose text is clearly negative (wrong star clicked)
MISMATCHES = [("flinders-nl", "nl"), ("flinders-nl", "nl"), ("flinders-nl", "en"), ("flinders-be", "fr")]

NEG_THEMES = ["late", "damaged", "service", "wrong", "refund", "assembly"]
NEG_WEIGHTS = {"product": [18, 26, 12, 20, 10, 14], "shop": [30, 14, 26, 8, 20, 2]}
POS_THEMES = ["quality", "crew", "showroom", "packaging", "fast"]
POS_WEIGHTS = {"product": [35, 15, 12, 18, 20], "shop": [15, 25, 18, 15, 27]}


def bank(spec: str) -> dict[str, list[str]]:
    """Parse 'key: phrase | phrase' lines; a repeated key appends."""
    out: dict[str, list[str]] = {}
    for line in spec.strip().splitlines():
        key, rest = line.split(":", 1)
        out.setdefault(key.strip(), []).extend(p.strip() for p in rest.split("|") if p.strip())
    return out


# Placeholders: {p} product short name, {b} brand, {n} 2-4, {w} weeks 3-9, {d} days 2-6, {city} showroom.
# Keys: t_* titles, o_* openings, c_* closings, s_pos one-liners, p_<kind> praise, x_<kind> damage.
BANKS = {
    "nl": bank("""
t_pos: Top! | Heel tevreden | Aanrader | Zeer goede service | Perfect geregeld | Mooi product, goede service | Helemaal blij | Dik verdiend | Wederom top | Fijne webshop | Zoals het hoort | Super! | Prima ervaring | Snel en netjes geleverd | Kwaliteit! | Blij mee | Keurig | Prachtig | Topwinkel | Echt een aanrader
t_mid: Prima, maar... | Redelijk | Product goed, levering minder | Gemengde gevoelens | Kan beter | Op zich ok | Voldoende | Mooi, maar niet vlekkeloos
t_neg: Slechte ervaring | Nooit meer | Teleurstellend | Niet tevreden | Jammer | Waardeloos | Zeer slecht
t_late: Levering weer uitgesteld | Wachten, wachten, wachten | Levertijd klopt niet | Nog steeds niks ontvangen | Leverdatum alweer verschoven
t_damaged: Beschadigd geleverd | Kapot aangekomen | Krassen op nieuw product | Teleurgesteld in de staat bij levering
t_service: Klantenservice onbereikbaar | Geen reactie op mails | Slechte communicatie | Niemand neemt op
t_wrong: Verkeerde kleur geleverd | Onderdelen ontbreken | Incompleet geleverd | Niet wat ik besteld had
t_refund: Wachten op mijn geld | Retour duurt eindeloos | Terugbetaling laat op zich wachten | Nog steeds geen geld terug
t_assembly: Onduidelijke handleiding | Montage was een drama | Handleiding klopt niet
s_pos: Prima. | Alles top. | Mooi product, snel geleverd. | Helemaal goed! | Zeer tevreden. | Precies wat we zochten. | Goed geregeld allemaal. | Netjes!
o_pos: Wat een fijne ervaring. | Super tevreden met onze aankoop. | Alles was perfect geregeld. | Tweede keer besteld bij Flinders en weer helemaal goed. | Lang getwijfeld, maar zo blij dat we het gedaan hebben. | Al jaren fan van {b} en nu eindelijk besteld. | Na lang zoeken eindelijk de juiste gevonden. | Eerste keer besteld bij deze webshop, zeker niet de laatste. | Van bestellen tot bezorgen ging alles soepel.
ctx: Besteld voor ons nieuwe huis. | We waren toe aan een nieuwe inrichting van de woonkamer. | Gekocht als cadeautje aan onszelf na de verbouwing. | De {p} stond al jaren op mijn verlanglijstje. | Na maanden twijfelen eindelijk de knoop doorgehakt.
o_mid: Het product is mooi, maar de rest kon beter. | Gemengde ervaring. | Op zich tevreden, met een paar kanttekeningen. | Uiteindelijk goed gekomen, maar het ging niet vanzelf.
o_neg: Helaas een hele slechte ervaring. | Wat een teleurstelling. | Ik ben echt klaar met deze winkel. | Had veel meer verwacht van een winkel in deze prijsklasse. | Nooit gedacht dat ik een negatieve review zou schrijven, maar hier is hij dan. | Zeer ontevreden.
quality: De kwaliteit is echt top, je ziet en voelt het verschil. | Mooi afgewerkt, geen enkel foutje te vinden. | Degelijk en stevig, hier doen we jaren mee. | Het materiaal voelt heel luxe aan. | In het echt nog mooier dan op de foto's. | Precies de kleur die we op de website zagen.
crew: De bezorgers waren super vriendelijk en hebben alles netjes op de juiste plek gezet. | Twee hele aardige jongens hebben alles naar de derde verdieping gedragen, zonder te mopperen. | De bezorgers belden een half uur van tevoren, heel fijn. | Het verpakkingsmateriaal werd gelijk meegenomen door de bezorgers. | De bezorgers trokken zelfs hun schoenen uit bij binnenkomst!
showroom: In de showroom in {city} werden we heel goed geholpen. | Goed advies gekregen in de winkel in {city}, zonder dat het opdringerig werd. | De medewerker in {city} nam echt de tijd om alle stofstalen te laten zien. | We hebben eerst in de showroom in {city} proefgezeten, dat gaf de doorslag.
packaging: Heel goed verpakt, geen krasje te bekennen. | De verpakking was stevig en alles was goed beschermd. | Netjes verpakt, weinig plastic, veel karton, dat waardeer ik. | Alles kwam goed ingepakt aan, ook de kleine onderdelen.
fast: Binnen {d} dagen in huis! | Sneller geleverd dan verwacht. | Besteld op maandag, donderdag al bezorgd. | De levering was precies op de afgesproken dag. | Netjes binnen het tijdvak van twee uur geleverd.
late: De levering is inmiddels {n} keer verschoven. | Er werd een levertijd van 2 weken beloofd, het werden er {w}. | Elke keer als ik bel krijg ik weer een nieuwe leverdatum. | Op de dag van levering een uur van tevoren een mail dat het toch niet doorging. | Ik heb een dag vrij genomen voor de bezorging en er kwam niemand. | Nu al {w} weken na de beloofde datum en nog steeds geen {p}.
damaged: Bij het uitpakken bleek het product beschadigd. | Er zat een flinke kras op, duidelijk al van voor de levering. | De doos was helemaal ingedeukt en de inhoud dus ook. | Het was duidelijk niet goed verpakt.
service: Ik heb {n} mails gestuurd en nog geen enkele reactie gehad. | De klantenservice is telefonisch onbereikbaar, na 40 minuten in de wacht heb ik opgehangen. | Het contactformulier geeft alleen een automatisch antwoord, verder niks. | Elke keer een andere medewerker die van niks weet. | Er werd beloofd dat ik teruggebeld zou worden, nooit gebeurd.
wrong: Er ontbraken schroeven, dus we konden het niet in elkaar zetten. | We kregen de verkeerde kleur: zwart in plaats van eiken. | Het zakje met bevestigingsmateriaal zat er niet bij. | Er is een heel ander model geleverd dan wat we besteld hadden. | Eén onderdeel ontbrak en daar moesten we {w} weken op wachten.
refund: Ik heb het product op eigen kosten teruggestuurd en wacht al {w} weken op mijn geld. | Volgens track & trace is de retour ontvangen, maar van een terugbetaling nog geen spoor. | Het retourproces is omslachtig en duurt weken. | Ze beloofden binnen 14 dagen terug te storten, inmiddels zijn we {w} weken verder.
assembly: De montagehandleiding bestaat alleen uit plaatjes en is totaal onduidelijk. | We hebben er met z'n tweeën drie uur over gedaan, omdat de handleiding niet klopte. | Stap 4 in de handleiding komt niet overeen met de onderdelen in de doos. | De gaatjes zaten niet op de juiste plek, of de handleiding klopt gewoon niet.
m_neg: De levering werd wel twee keer verschoven. | De klantenservice reageerde pas na een week op mijn mail. | Er ontbraken twee schroefjes, die werden wel snel nagestuurd. | De handleiding was niet helemaal duidelijk. | Er zat een klein krasje op, maar dat valt nauwelijks op.
minor: Enige minpuntje: de levertijd was wat lang. | Wel aan de prijzige kant. | Ze hadden wel iets eerder mogen laten weten hoe laat de bezorging kwam. | De kleur is iets lichter dan op de foto. | Montage was even puzzelen. | De track & trace werkte niet helemaal.
c_pos: Zeker een aanrader! | We komen zeker terug. | Bedankt Flinders! | Dikke aanrader. | Top, ga zo door!
c_mid: Al met al wel tevreden. | Volgende keer hopelijk beter. | Het product maakt veel goed.
c_neg: Niet aan te raden. | Ik bestel hier nooit meer. | Echt jammer, want de producten zelf zijn mooi. | Flinders, doe hier iets aan! | Voor dit geld verwacht je beter.
update: Update: nog steeds niets gehoord. | Update: inmiddels een reactie gehad, maar nog geen oplossing. | Update: na {w} weken eindelijk opgelost, maar dit had nooit zo lang mogen duren.
p_chair: De {p} zit verrassend comfortabel, ook na een lang diner. | Mooie stoelen, ze staan prachtig rond onze eettafel. | Stevige stoel, er wiebelt niks.
p_table: De {p} is het middelpunt van ons huis geworden. | Prachtig blad met een mooie houtnerf. | Groot genoeg voor acht personen en toch niet log.
p_lamp: Geeft een heel mooi, zacht licht. | De {p} maakt de hele ruimte af. | Echt een designklassieker.
p_sofa: De {p} zit heerlijk, je zakt er lekker in zonder dat het te zacht is. | Prachtige stof die heel stevig aanvoelt. | Onze nieuwe bank is de favoriete plek van het hele gezin.
p_cabinet: De {p} is strak afgewerkt en de lades lopen soepel. | Veel opbergruimte en toch een rustig beeld. | Mooi meubel, past perfect in onze woonkamer.
p_rug: Het kleed is zacht en voelt lekker dik aan. | De kleuren van de {p} zijn prachtig. | Ligt mooi plat, geen omkrullende randen.
x_chair: Eén van de stoelpoten was gebroken. | De zitting had een scheur. | Er zat een diepe kras in de rugleuning.
x_table: Het tafelblad zat vol krassen. | Er zat een barst in het tafelblad. | Een van de tafelpoten was verbogen.
x_lamp: De lampenkap had een flinke deuk. | Het glas was gebarsten. | De kap was bekrast en de fitting zat los.
x_sofa: Er zat een scheur in de stof van de armleuning. | Een van de poten was afgebroken. | Er zat een vlek op een van de kussens.
x_cabinet: Een deurtje was beschadigd en de hoek was afgebroken. | De lak was op meerdere plekken afgebladderd. | Een van de planken was kromgetrokken.
x_rug: Er zat een grote vlek op het kleed. | De rand was aan één kant losgeraakt. | Het kleed rook sterk naar chemicaliën en er zit een vouw in die er niet uit gaat.
"""),
    "en": bank("""
t_pos: Great shop | Very happy | Lovely quality | Highly recommended | Excellent service | Smooth from start to finish | 5 stars | Beautiful piece | Fast and friendly | Would buy again | Perfect | Really pleased | Spot on
t_mid: Okay, but... | Mixed feelings | Good product, slow delivery | Could be better | Average experience | Fine in the end
t_neg: Disappointing | Very poor | Never again | Not happy | Avoid | Terrible experience
t_late: Delivery postponed again | Still waiting | Delivery date keeps moving | Where is my order?
t_damaged: Arrived damaged | Scratched on arrival | Broken on delivery | Disappointed with the condition
t_service: No reply from customer service | Impossible to reach anyone | Terrible communication
t_wrong: Wrong colour delivered | Missing parts | Incomplete order
t_refund: Still waiting for my refund | Returns take forever | Refund nightmare
t_assembly: Useless instructions | Assembly was a nightmare
s_pos: All good. | Great, thanks! | Lovely product, quick delivery. | Very pleased. | Exactly what we wanted. | No complaints at all.
o_pos: What a great experience. | Really happy with our purchase. | Everything went smoothly. | Second order with Flinders and again spot on. | We hesitated for a long time but so glad we went for it. | Been a {b} fan for years and finally treated myself. | First time ordering here, definitely not the last. | We recently moved here and needed to furnish a whole flat, Flinders made it easy.
ctx: Ordered for our new house. | We were due a living room makeover. | A treat for ourselves after the renovation. | The {p} had been on my wish list for years. | After months of going back and forth we finally took the plunge.
o_mid: The product is lovely, the rest less so. | Mixed experience. | Happy in the end, but it took some effort. | Mostly fine, with a couple of caveats.
o_neg: Unfortunately a really bad experience. | What a letdown. | I expected much more from a shop at this price level. | Never thought I'd write a negative review, but here we are. | Very unhappy.
quality: The quality is excellent, you can really see and feel the difference. | Beautifully finished, not a single flaw. | Solid and sturdy, this will last for years. | Even nicer in real life than in the photos. | Exactly the colour shown on the website.
crew: The delivery guys were super friendly and put everything exactly where we wanted it. | Two very kind men carried everything up three flights of stairs without a single complaint. | The driver called half an hour ahead, very helpful. | They even took all the packaging away.
showroom: We got great advice in the {city} showroom. | The staff in {city} took their time to show us all the fabric samples. | We tried it out in the showroom in {city} first, which made the decision easy.
packaging: Very well packed, not a scratch. | Sturdy packaging, everything well protected. | Nicely packed with mostly cardboard and little plastic, which I appreciate.
fast: Delivered within {d} days! | Arrived faster than expected. | Ordered on Monday, delivered on Thursday. | Delivered right on the agreed day, within the two-hour window.
late: The delivery has now been postponed {n} times. | We were promised 2 weeks, it turned into {w}. | Every time I call I get a new delivery date. | I took a day off for the delivery and nobody showed up. | An hour before the delivery slot I got an email saying it was cancelled. | {w} weeks past the promised date and still no {p}.
damaged: When we unpacked it, it was damaged. | There was a big scratch that was clearly there before delivery. | The box was crushed and so was the content.
service: I've sent {n} emails and haven't had a single reply. | Customer service can't be reached by phone, I hung up after 40 minutes on hold. | The contact form only gives an automated reply, nothing else. | Every time a different person who knows nothing about my case. | They promised to call me back, never happened.
wrong: Screws were missing, so we couldn't assemble it. | We received the wrong colour: black instead of oak. | The bag with the fittings wasn't in the box. | They delivered a completely different model from what we ordered.
refund: I returned it at my own cost and have been waiting {w} weeks for my money. | Tracking says the return was received, but no refund in sight. | The returns process is cumbersome and takes weeks. | They promised a refund within 14 days, we're now {w} weeks further.
assembly: The assembly instructions are only drawings and completely unclear. | It took two of us three hours because the instructions were wrong. | Step 4 of the manual doesn't match the parts in the box.
m_neg: The delivery was moved twice. | Customer service only replied to my email after a week. | Two screws were missing, but they sent them quickly. | The instructions weren't entirely clear. | There was a small scratch, but you barely notice it.
minor: Only downside: delivery took a while. | A bit on the pricey side. | Would have liked a bit more notice about the delivery time. | The colour is slightly lighter than in the photo. | Assembly was a bit of a puzzle.
c_pos: Highly recommended! | We'll definitely be back. | Thanks Flinders! | Keep it up!
c_mid: All in all fairly happy. | Hopefully better next time. | The product makes up for a lot.
c_neg: Would not recommend. | Never ordering here again. | Such a shame, because the products themselves are beautiful. | For this money you expect better.
update: Update: still nothing. | Update: finally got a reply, but no solution yet. | Update: after {w} weeks it's finally sorted, but it shouldn't take this long.
p_chair: The {p} is surprisingly comfortable, even after a long dinner. | These chairs look stunning around our dining table. | Sturdy chair, no wobbling at all.
p_table: The {p} has become the centrepiece of our home. | Beautiful top with a lovely wood grain. | Seats eight easily and still doesn't feel bulky.
p_lamp: Gives a lovely, soft light. | The {p} really completes the room. | A true design classic.
p_sofa: The {p} is super comfortable, soft but not too soft. | Gorgeous fabric that feels really durable. | Our new sofa is the whole family's favourite spot.
p_cabinet: The {p} is beautifully finished and the drawers run smoothly. | Lots of storage but still a calm look. | Fits perfectly in our living room.
p_rug: The rug is soft and feels thick. | The colours of the {p} are beautiful. | Lies nice and flat, no curling edges.
x_chair: One of the chair legs was broken. | The seat was torn. | There was a deep scratch on the backrest.
x_table: The table top was covered in scratches. | There was a crack in the table top. | One of the table legs was bent.
x_lamp: The lamp shade had a big dent. | The glass was cracked. | The shade was scratched and the socket was loose.
x_sofa: There was a tear in the fabric of the armrest. | One of the feet had snapped off. | There was a stain on one of the cushions.
x_cabinet: One of the doors was damaged and a corner had broken off. | The lacquer was chipped in several places. | One of the shelves was warped.
x_rug: There was a large stain on the rug. | The edge had come loose on one side. | It smelled strongly of chemicals and has a crease that won't come out.
"""),
    "de": bank("""
t_pos: Sehr zufrieden | Top Shop | Klare Empfehlung | Toller Service | Wunderschön | Alles bestens | Gerne wieder | Super Qualität | Schnelle Lieferung
t_mid: Ganz ok | Gemischte Gefühle | Produkt gut, Lieferung weniger | Luft nach oben
t_neg: Enttäuschend | Nie wieder | Sehr schlecht | Nicht zu empfehlen
t_late: Lieferung schon wieder verschoben | Warten und warten | Liefertermin stimmt nie | Immer noch nicht geliefert
t_damaged: Beschädigt angekommen | Kratzer bei Lieferung | Kaputt geliefert
t_service: Kundenservice nicht erreichbar | Keine Antwort auf E-Mails | Schlechte Kommunikation
t_wrong: Falsche Farbe geliefert | Teile fehlen | Unvollständige Lieferung
t_refund: Warte immer noch auf mein Geld | Rückerstattung dauert ewig | Retoure ein Albtraum
t_assembly: Unverständliche Anleitung | Montage eine Katastrophe
s_pos: Alles bestens. | Sehr zufrieden, danke! | Schönes Produkt, schnelle Lieferung. | Genau wie beschrieben.
o_pos: Eine rundum tolle Erfahrung. | Wir sind sehr zufrieden mit unserem Kauf. | Alles hat reibungslos geklappt. | Schon die zweite Bestellung bei Flinders und wieder alles perfekt. | Wir haben lange überlegt, aber es hat sich gelohnt. | Ich bin seit Jahren Fan von {b} und habe mir jetzt endlich etwas gegönnt. | Wir haben über die Grenze bestellt und alles lief problemlos.
ctx: Bestellt für unser neues Haus. | Unser Wohnzimmer brauchte dringend eine Auffrischung. | Ein Geschenk an uns selbst nach der Renovierung. | Das Modell {p} von {b} stand seit Jahren auf meiner Wunschliste.
o_mid: Das Produkt ist schön, der Rest leider weniger. | Gemischte Erfahrung. | Am Ende ist alles gut geworden, aber es war mühsam.
o_neg: Leider eine sehr schlechte Erfahrung. | Was für eine Enttäuschung. | Bei diesen Preisen hätte ich deutlich mehr erwartet. | Ich schreibe selten negative Bewertungen, aber hier muss es sein. | Sehr unzufrieden.
quality: Die Qualität ist hervorragend, man sieht und spürt den Unterschied. | Sauber verarbeitet, kein einziger Makel. | Stabil und solide, das hält viele Jahre. | In echt noch schöner als auf den Fotos. | Genau die Farbe wie auf der Website.
crew: Die Lieferanten waren sehr freundlich und haben alles an den richtigen Platz gestellt. | Zwei nette Herren haben alles in den dritten Stock getragen, ohne zu murren. | Der Fahrer hat eine halbe Stunde vorher angerufen, sehr angenehm. | Die Verpackung wurde direkt wieder mitgenommen.
showroom: Im Showroom in {city} wurden wir sehr gut beraten. | Die Mitarbeiterin in {city} hat sich viel Zeit genommen und uns alle Stoffmuster gezeigt. | Wir haben im Showroom in {city} probegesessen, das hat den Ausschlag gegeben.
packaging: Sehr gut verpackt, kein Kratzer. | Stabile Verpackung, alles gut geschützt. | Viel Karton, wenig Plastik, das finde ich gut.
fast: Innerhalb von {d} Tagen geliefert! | Schneller geliefert als erwartet. | Montag bestellt, Donnerstag geliefert. | Pünktlich am vereinbarten Tag im Zeitfenster von zwei Stunden geliefert.
late: Die Lieferung wurde inzwischen {n} Mal verschoben. | Versprochen waren 2 Wochen, geworden sind es {w}. | Jedes Mal, wenn ich anrufe, bekomme ich einen neuen Liefertermin. | Ich habe mir extra frei genommen und niemand ist gekommen. | Eine Stunde vor dem Termin kam eine Mail, dass die Lieferung doch nicht stattfindet. | {w} Wochen nach dem versprochenen Termin und immer noch nichts.
damaged: Beim Auspacken war das Produkt beschädigt. | Es war ein großer Kratzer drauf, der eindeutig schon vor der Lieferung da war. | Der Karton war völlig eingedrückt, der Inhalt leider auch.
service: Ich habe {n} E-Mails geschrieben und keine einzige Antwort bekommen. | Telefonisch ist der Kundenservice nicht erreichbar, nach 40 Minuten Warteschleife habe ich aufgelegt. | Über das Kontaktformular kommt nur eine automatische Antwort. | Jedes Mal ein anderer Mitarbeiter, der von nichts weiß. | Man hat mir einen Rückruf versprochen, der nie kam.
wrong: Es fehlten Schrauben, wir konnten nichts aufbauen. | Geliefert wurde die falsche Farbe: Schwarz statt Eiche. | Der Beutel mit den Beschlägen war nicht im Karton. | Es wurde ein ganz anderes Modell geliefert als bestellt.
refund: Ich habe auf eigene Kosten zurückgeschickt und warte seit {w} Wochen auf mein Geld. | Laut Sendungsverfolgung ist die Retoure angekommen, von der Erstattung keine Spur. | Der Rückgabeprozess ist umständlich und dauert Wochen. | Versprochen war eine Erstattung innerhalb von 14 Tagen, jetzt sind es {w} Wochen.
assembly: Die Montageanleitung besteht nur aus Bildern und ist völlig unverständlich. | Wir haben zu zweit drei Stunden gebraucht, weil die Anleitung nicht stimmt. | Schritt 4 der Anleitung passt nicht zu den Teilen im Karton.
m_neg: Die Lieferung wurde zweimal verschoben. | Der Kundenservice hat erst nach einer Woche auf meine Mail geantwortet. | Es fehlten zwei Schrauben, die wurden aber schnell nachgeschickt. | Die Anleitung war nicht ganz klar. | Ein kleiner Kratzer war drauf, fällt aber kaum auf.
minor: Einziges Manko: die Lieferzeit war etwas lang. | Preislich schon eher gehoben. | Die Farbe ist etwas heller als auf dem Foto. | Der Aufbau war etwas knifflig.
c_pos: Absolute Empfehlung! | Gerne wieder. | Danke, Flinders! | Weiter so!
c_mid: Alles in allem zufrieden. | Hoffentlich klappt es nächstes Mal besser. | Das Produkt macht vieles wieder gut.
c_neg: Nicht zu empfehlen. | Hier bestelle ich nie wieder. | Schade, denn die Produkte selbst sind schön. | Für den Preis erwartet man mehr.
update: Nachtrag: immer noch nichts gehört. | Nachtrag: inzwischen eine Antwort, aber noch keine Lösung. | Nachtrag: nach {w} Wochen endlich gelöst, aber das darf nicht so lange dauern.
p_chair: Der Stuhl ist überraschend bequem, auch nach einem langen Abendessen. | Die Stühle sehen an unserem Esstisch fantastisch aus. | Sehr stabil, nichts wackelt.
p_table: Der Tisch ist zum Mittelpunkt unserer Wohnung geworden. | Wunderschöne Platte mit toller Maserung. | Platz für acht Personen und wirkt trotzdem nicht wuchtig.
p_lamp: Spendet ein wunderschönes, weiches Licht. | Die Leuchte rundet den ganzen Raum ab. | Ein echter Designklassiker.
p_sofa: Das Sofa ist herrlich bequem, weich, aber nicht zu weich. | Wunderschöner Stoff, der sehr robust wirkt. | Unser neues Sofa ist der Lieblingsplatz der ganzen Familie.
p_cabinet: Das Möbel ist sauber verarbeitet und die Schubladen laufen leicht. | Viel Stauraum und trotzdem ein ruhiges Bild. | Passt perfekt in unser Wohnzimmer.
p_rug: Der Teppich ist weich und fühlt sich schön dick an. | Die Farben sind wunderschön. | Liegt schön flach, keine hochstehenden Ecken.
x_chair: Ein Stuhlbein war gebrochen. | Die Sitzfläche hatte einen Riss. | Auf der Rückenlehne war ein tiefer Kratzer.
x_table: Die Tischplatte war voller Kratzer. | In der Tischplatte war ein Riss. | Ein Tischbein war verbogen.
x_lamp: Der Lampenschirm hatte eine große Delle. | Das Glas war gesprungen. | Der Schirm war zerkratzt und die Fassung lose.
x_sofa: Der Stoff an der Armlehne war eingerissen. | Ein Fuß war abgebrochen. | Auf einem der Kissen war ein Fleck.
x_cabinet: Eine Tür war beschädigt und eine Ecke abgebrochen. | Der Lack war an mehreren Stellen abgeplatzt. | Ein Einlegeboden war verzogen.
x_rug: Auf dem Teppich war ein großer Fleck. | Der Rand hatte sich an einer Seite gelöst. | Er roch stark nach Chemie und hat einen Knick, der nicht rausgeht.
"""),
    "fr": bank("""
t_pos: Très satisfait | Parfait | Je recommande | Service au top | Superbe qualité | Livraison rapide | Rien à redire | Magnifique | Excellente expérience
t_mid: Correct, sans plus | Avis mitigé | Bon produit, livraison moins | Peut mieux faire
t_neg: Très déçu | Décevant | Plus jamais | À éviter
t_late: Livraison encore reportée | Toujours rien reçu | Délai non respecté | On attend encore
t_damaged: Arrivé abîmé | Rayures à la livraison | Livré cassé
t_service: Service client injoignable | Aucune réponse aux mails | Communication catastrophique
t_wrong: Mauvaise couleur livrée | Pièces manquantes | Commande incomplète
t_refund: Toujours pas remboursé | Retour interminable | Remboursement : toujours rien
t_assembly: Notice incompréhensible | Montage galère
s_pos: Parfait. | Très bien, merci ! | Beau produit, livraison rapide. | Conforme à la description. | Rien à redire.
o_pos: Une très belle expérience. | Très content de notre achat. | Tout s'est parfaitement déroulé. | Deuxième commande chez Flinders et toujours aussi bien. | On a longtemps hésité, mais on ne regrette pas du tout. | Fan de {b} depuis des années, je me suis enfin fait plaisir. | Première commande sur ce site, certainement pas la dernière.
ctx: Commandé pour notre nouvelle maison. | Notre salon avait bien besoin d'un coup de neuf. | Un cadeau pour nous-mêmes après les travaux. | Le modèle {p} de {b} était sur ma liste d'envies depuis des années.
o_mid: Le produit est beau, le reste un peu moins. | Expérience mitigée. | Tout s'est arrangé au final, mais ce n'était pas simple.
o_neg: Malheureusement une très mauvaise expérience. | Quelle déception. | À ce prix-là, je m'attendais à beaucoup mieux. | Je laisse rarement des avis négatifs, mais là c'est trop. | Très mécontent.
quality: La qualité est excellente, on voit et on sent la différence. | Finitions impeccables, pas le moindre défaut. | Solide et robuste, on en a pour des années. | Encore plus beau en vrai que sur les photos. | Exactement la couleur du site.
crew: Les livreurs étaient très aimables et ont tout installé à l'endroit voulu. | Deux livreurs super sympas ont tout monté au troisième étage sans rechigner. | Le chauffeur a appelé une demi-heure avant, très pratique. | Ils ont même repris tous les emballages.
showroom: Très bien conseillés en magasin à {city}. | La vendeuse à {city} a pris le temps de nous montrer tous les échantillons de tissu. | On a d'abord testé en showroom à {city}, ça nous a décidés.
packaging: Très bien emballé, pas une rayure. | Emballage solide, tout était bien protégé. | Beaucoup de carton, peu de plastique, j'apprécie.
fast: Livré en {d} jours ! | Livré plus vite que prévu. | Commandé le lundi, livré le jeudi. | Livré le jour convenu, dans le créneau de deux heures.
late: La livraison a déjà été reportée {n} fois. | On nous avait promis 2 semaines, on en est à {w}. | À chaque appel, on me donne une nouvelle date de livraison. | J'ai pris congé pour la livraison et personne n'est venu. | Une heure avant le créneau, un mail pour dire que la livraison était annulée. | {w} semaines après la date promise, toujours rien.
damaged: Au déballage, le produit était abîmé. | Il y avait une grosse rayure, clairement antérieure à la livraison. | Le carton était complètement enfoncé, et le contenu aussi.
service: J'ai envoyé {n} mails et je n'ai reçu aucune réponse. | Impossible de joindre le service client par téléphone, j'ai raccroché après 40 minutes d'attente. | Le formulaire de contact ne renvoie qu'une réponse automatique. | À chaque fois un autre interlocuteur qui ne sait rien de mon dossier. | On m'a promis de me rappeler, ça n'est jamais arrivé.
wrong: Il manquait des vis, impossible de monter quoi que ce soit. | Mauvaise couleur reçue : noir au lieu de chêne. | Le sachet de quincaillerie n'était pas dans le carton. | On a reçu un tout autre modèle que celui commandé.
refund: J'ai renvoyé le produit à mes frais et j'attends mon argent depuis {w} semaines. | Selon le suivi, le retour est bien arrivé, mais aucun remboursement en vue. | La procédure de retour est compliquée et prend des semaines. | On m'avait promis un remboursement sous 14 jours, cela fait maintenant {w} semaines.
assembly: La notice de montage n'a que des dessins et est totalement incompréhensible. | Il nous a fallu trois heures à deux parce que la notice était fausse. | L'étape 4 de la notice ne correspond pas aux pièces du carton.
m_neg: La livraison a été décalée deux fois. | Le service client n'a répondu à mon mail qu'au bout d'une semaine. | Il manquait deux vis, mais elles ont été envoyées rapidement. | La notice n'était pas très claire. | Il y avait une petite rayure, mais elle se voit à peine.
minor: Seul bémol : le délai de livraison un peu long. | Un peu cher quand même. | La couleur est un peu plus claire que sur la photo. | Le montage était un peu laborieux.
c_pos: Je recommande vivement ! | On reviendra sans hésiter. | Merci Flinders ! | Continuez comme ça !
c_mid: Globalement satisfait. | J'espère que ce sera mieux la prochaine fois. | Le produit rattrape beaucoup de choses.
c_neg: Je ne recommande pas. | Je ne commanderai plus jamais ici. | Dommage, car les produits eux-mêmes sont beaux. | À ce prix, on attend mieux.
update: Mise à jour : toujours aucune nouvelle. | Mise à jour : enfin une réponse, mais toujours pas de solution. | Mise à jour : réglé après {w} semaines, mais ça ne devrait pas prendre autant de temps.
p_chair: La chaise est étonnamment confortable, même après un long dîner. | Les chaises sont superbes autour de notre table. | Très stable, rien ne bouge.
p_table: La table est devenue la pièce maîtresse de notre séjour. | Magnifique plateau avec un beau veinage. | On tient à huit sans problème et elle reste légère visuellement.
p_lamp: Elle diffuse une lumière douce et très agréable. | La lampe donne une toute autre ambiance à la pièce. | Un vrai classique du design.
p_sofa: Le canapé est très confortable, moelleux sans être trop mou. | Superbe tissu qui a l'air très résistant. | Notre nouveau canapé est devenu la place préférée de toute la famille.
p_cabinet: Le meuble est très bien fini et les tiroirs coulissent parfaitement. | Beaucoup de rangement, tout en restant sobre. | S'intègre parfaitement dans notre salon.
p_rug: Le tapis est doux et bien épais. | Les couleurs sont magnifiques. | Il reste bien à plat, les bords ne rebiquent pas.
x_chair: Un pied de la chaise était cassé. | L'assise était déchirée. | Il y avait une rayure profonde sur le dossier.
x_table: Le plateau de la table était couvert de rayures. | Il y avait une fissure dans le plateau. | Un des pieds de la table était tordu.
x_lamp: L'abat-jour avait une grosse bosse. | Le verre était fêlé. | L'abat-jour était rayé et la douille se détachait.
x_sofa: Le tissu de l'accoudoir était déchiré. | Un des pieds était cassé. | Il y avait une tache sur un des coussins.
x_cabinet: Une porte était abîmée et un coin cassé. | La laque était écaillée à plusieurs endroits. | Une des étagères était voilée.
x_rug: Il y avait une grosse tache sur le tapis. | La bordure s'était décousue d'un côté. | Il sentait fort le produit chimique et garde un pli qui ne part pas.
"""),
}

# Display names: first names and (prefix, surname) per (business unit, language); "nl-be" is Flemish.
FIRST = {
    "nl": "Sanne Thomas Lotte Daan Eva Bram Femke Jeroen Anouk Ruben Iris Joost Marieke Sven Lieke Koen Fleur "
          "Wouter Esther Niels Maaike Bas Ilse Martijn Noor Hanneke Pieter Ingrid Gerard Yvonne Yusuf Naima",
    "nl-be": "Wout Lien Jens Ellen Sofie Tine Jef Nele Bart Katrien Stijn Griet Joris An Lore Kobe Elke Dries "
             "Hanne Lennert Pieter-Jan",
    "fr": "Camille Julien Sophie Antoine Manon Nicolas Élodie Mathieu Chloé Maxime Aurélie Pauline Laurent Céline "
          "Olivier Amandine Benoît Marie Cédric Hélène",
    "de": "Lukas Anna Jonas Katharina Felix Julia Tobias Lena Stefan Sabine Markus Claudia Jan Miriam Andreas Nicole",
    "en": "Emma James Olivia Daniel Sarah Michael Hannah Chris Laura David Rachel Tom Priya Ben Kate Alex",
}
SURNAMES = {
    "nl": "de Vries|Jansen|van Dijk|Bakker|Visser|Smit|Meijer|de Boer|Mulder|de Groot|Bos|van den Berg|Kuipers|"
          "Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|van der Linden|Kok|Vermeulen|Postma|El Amrani|Yilmaz",
    "nl-be": "Peeters|Janssens|Maes|Mertens|Willems|Claes|Goossens|Wouters|De Smet|Van den Broeck|Declercq|"
             "Hermans|Vandenberghe|Verstraete|De Backer|Michiels",
    "fr": "Dubois|Lambert|Dupont|Martin|Leroy|Simon|Lefèvre|Renard|Collard|Lemaire|François|Henrard|Gilson|Delvaux",
    "de": "Müller|Schmidt|Schneider|Fischer|Weber|Becker|Hoffmann|Schäfer|Koch|Krämer|Schröder|Braun|Keller|Heinen",
    "en": "Smith|Taylor|Brown|Wilson|Clarke|Walker|Patel|Hughes|Evans|Robinson|O'Brien|Murphy|Thompson|Wright",
}
DUTCH_PREFIXES = ("van der ", "van den ", "van ", "de ")
MISMATCH_IDS: list[tuple[str, str]] = []  # filled by build(), printed by main()


def ean13(rng: random.Random) -> str:
    body = "87" + "".join(str(rng.randrange(10)) for _ in range(10))
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    return body + str((10 - total % 10) % 10)


def quotas(total: int, shares: dict, rng: random.Random) -> list:
    """A shuffled list with each key repeated round(total*share) times (largest remainder)."""
    raw = {k: total * s / sum(shares.values()) for k, s in shares.items()}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: total - sum(counts.values())]:
        counts[k] += 1
    out = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(out)
    return out


def person(rng: random.Random, bu: str, lang: str, domains: list[str]) -> tuple[str, str]:
    key = "nl-be" if (lang == "nl" and bu == "flinders-be") else lang
    first = rng.choice(FIRST[key].split())
    surname = rng.choice(SURNAMES[key].split("|"))
    prefix = next((p for p in DUTCH_PREFIXES if surname.startswith(p)), "")  # lowercase = Dutch tussenvoegsel
    display = f"{first} {prefix}{surname[len(prefix)].upper()}."

    def ascii_(s: str) -> str:
        s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
        return "".join(c for c in s if c.isalnum())

    f, s = ascii_(first), ascii_(surname)
    local = rng.choice([f"{f}.{s}", f"{f}.{s}", f"{f}{s}", f"{f[0]}.{s}", f"{f}{s[0]}{rng.randint(70, 99)}"])
    return display, f"{local}@{rng.choice(domains)}"


def typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not idx:
        return text
    i = rng.choice(idx)
    w, j = words[i], rng.randrange(1, len(words[i]) - 2)
    words[i] = rng.choice([w[:j] + w[j + 1] + w[j] + w[j + 2:], w[:j] + w[j + 1:], w[:j] + w[j] + w[j:]])
    return " ".join(words)


def compose(rng, L, rating, kind, fmt, is_product, force_neg=False):
    """Title and text for one review, in the language of bank L."""
    sentiment = "neg" if force_neg or rating <= 2 else ("mid" if rating == 3 else "pos")
    one = rng.choice
    kind_ok = kind if is_product or rng.random() < 0.4 else None  # shop reviews mention the product less
    praise = L[f"p_{kind}"] if kind_ok else []
    parts: list[str] = []
    if sentiment == "pos":
        length = rng.choices(["short", "medium", "long"], [30, 48, 22])[0]
        themes = rng.sample(POS_THEMES, 3, counts=POS_WEIGHTS["product" if is_product else "shop"])
        themes = list(dict.fromkeys(themes))
        if length == "short":
            parts = [one(L["s_pos"] + L["o_pos"] + L[themes[0]] + praise)]
        else:
            if length == "long" or rng.random() < 0.6:
                parts.append(one(L["o_pos"]))
            if rng.random() < 0.3:
                parts.append(one(L["ctx"]))
            if praise and (length == "long" or rng.random() < 0.65):
                parts += rng.sample(praise, 2 if length == "long" and rng.random() < 0.5 else 1)
            parts += [one(L[t]) for t in themes[: (len(themes) if length == "long" else rng.randint(1, 2))]]
            if rating == 4 and rng.random() < 0.7:
                parts.append(one(L["minor"]))
            if rng.random() < (0.8 if length == "long" else 0.45):
                parts.append(one(L["c_pos"]))
        title = one(L["t_pos"])
    elif sentiment == "mid":
        if rng.random() < 0.7:
            parts.append(one(L["o_mid"]))
        parts.append(one(praise + L["quality"] + L["fast"]))
        parts.append(one(L["minor"] + L["m_neg"]))
        if rng.random() < 0.6:
            parts.append(one(L["c_mid"]))
        title = one(L["t_mid"])
    else:
        length = rng.choices(["short", "medium", "long"], [15, 45, 40])[0]
        weights = NEG_WEIGHTS["product" if is_product else "shop"]
        theme = rng.choices(NEG_THEMES, weights)[0]
        # a follow-up complaint that fits after the main one: mostly the support or refund afterwards
        second = rng.choice(["late", "refund"] if theme == "service" else ["service", "service", "refund"])
        main = list(L[theme])
        if theme == "damaged":
            main = rng.sample(L[f"x_{kind}"], 1) + rng.sample(main, len(main))
        else:
            rng.shuffle(main)
        if length == "short":
            parts = main[:1]
        else:
            if length == "long" or rng.random() < 0.5:
                parts.append(one(L["o_neg"]))
            if rng.random() < 0.3:
                parts.append(one(L["ctx"]))
            parts += main[: 2 if length == "long" else rng.randint(1, 2)]
            if second != theme and rng.random() < (0.75 if length == "long" else 0.4):
                parts.append(one(L[second]))
            if rating == 2 and praise and rng.random() < 0.5:
                parts.append(one(praise))
            if length == "long" and rng.random() < 0.35:
                parts.append(one(L["update"]))
            elif rng.random() < 0.6:
                parts.append(one(L["c_neg"]))
        title = one(L[f"t_{theme}"]) if rng.random() < 0.65 else one(L["t_neg"])
    parts = [p.format(**fmt) for p in parts]
    text = " ".join(parts)
    if len(parts) > 3 and rng.random() < 0.2:  # one paragraph break somewhere in the middle
        k = rng.randrange(2, len(parts) - 1)
        text = " ".join(parts[:k]) + "\n\n" + " ".join(parts[k:])
    if (rating in (1, 5) or force_neg) and rng.random() < 0.06:
        title = title.upper()
    if rng.random() < 0.10:
        text = typo(rng, text)
    if rng.random() < 0.04:
        text = text.lower().rstrip(".!")
    return title, text


def day_weights(days: list[datetime]) -> list[float]:
    month_factor = {11: 1.9, 12: 1.3, 1: 1.15, 7: 0.8, 8: 0.85}
    n = len(days) - 1
    return [(0.6 + 0.8 * i / n) * month_factor.get(d.month, 1.0) for i, d in enumerate(days)]


def timestamps(rng: random.Random, count: int) -> list[datetime]:
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    hours = list(range(24))
    hour_w = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 4, 4, 5, 5, 4, 4, 4, 5, 6, 8, 9, 8, 5, 2]
    out = []
    for day in rng.choices(days, day_weights(days), k=count):
        out.append(day + timedelta(hours=rng.choices(hours, hour_w)[0], minutes=rng.randrange(60),
                                   seconds=rng.randrange(60)))
    return sorted(out)


def product_plan(rng: random.Random, bu: str, n_product: int) -> list[str]:
    """SKUs for the product reviews: a floor per product plus the rest by popularity."""
    floor = 3 if bu == "flinders-nl" else 1
    eligible = [p for p in PRODUCTS if not (bu == "flinders-be" and p[0] in BE_WITHOUT_REVIEWS)]
    plan = [p[0] for p in eligible for _ in range(floor)]
    plan += quotas(n_product - len(plan), {p[0]: p[5] for p in eligible}, rng)
    rng.shuffle(plan)
    return plan


def prices() -> dict[str, tuple[str, str]]:
    """(price, availability) per sku: seeded apart from the reviews, so adding prices changed no review."""
    rng = random.Random(f"{SEED}-prices")
    out = {}
    for sku, _brand, _name, _short, kind, _w in PRODUCTS:
        low, high = PRICES[kind]
        euros = rng.randrange((low + 1) // 50, (high + 1) // 50 + 1) * 50 - 1  # 249, 1.299: shop prices end in 49/99
        out[sku] = (f"{euros}.00", "BackOrder" if rng.random() < BACK_ORDER_SHARE else "InStock")
    return out


def build() -> dict:
    rng = random.Random(SEED)
    gtins: dict[str, str] = {}
    for sku, *_ in PRODUCTS:
        g = ean13(rng)
        while g in gtins.values():
            g = ean13(rng)
        gtins[sku] = g
    by_sku = {p[0]: p for p in PRODUCTS}
    price = prices()
    products, reviews = {}, {}
    order_numbers: set[str] = set()
    inv = 1180
    mismatch_plan = list(MISMATCHES)
    seen_texts: set[str] = set()
    for bu in BUSINESS_UNITS:
        slug, domain = bu["slug"], bu["domain"]
        plan = PLAN[slug]
        products[slug] = [
            {"sku": sku, "name": name, "url": f"https://{domain}/{URL_DIR[kind]}/{sku}",
             "image": f"https://{domain}/images/{sku}.jpg", "gtin": gtins[sku], "brand": brand,
             "price": price[sku][0], "currency": "EUR", "availability": price[sku][1]}
            for sku, brand, name, _short, kind, _w in PRODUCTS
        ]
        total = plan["total"]
        ratings = quotas(total, RATING_SHARES, rng)
        langs = quotas(total, plan["langs"], rng)
        types = quotas(total, {"shop": SHOP_SHARE, "product": 1 - SHOP_SHARE}, rng)
        # Complaints land on the public review site more often than on the post-purchase form.
        for i in range(total):
            if ratings[i] <= 2 and types[i] == "product" and rng.random() < 0.4:
                order = rng.sample(range(total), total)
                j = next((j for j in order if ratings[j] >= 4 and types[j] == "shop"), i)
                types[i], types[j] = "shop", "product"
        skus = iter(product_plan(rng, slug, types.count("product")))
        whens = timestamps(rng, total)
        rng.shuffle(whens)
        mismatch_idx = set()
        for _bu, lang in [m for m in mismatch_plan if m[0] == slug]:
            cand = [i for i in range(total) if ratings[i] == 5 and langs[i] == lang and i not in mismatch_idx]
            mismatch_idx.add(rng.choice(cand))
        domains = {"flinders-nl": ["example.nl", "example.nl", "example.com"],
                   "flinders-be": ["example.be", "example.be", "example.com"]}[slug]
        items = []
        for i in range(total):
            rating, lang, kind_of = ratings[i], langs[i], types[i]
            is_product = kind_of == "product"
            sku = next(skus) if is_product else rng.choice(PRODUCTS)[0]
            _, brand, _, short, kind, _ = by_sku[sku]
            L = BANKS[lang]
            force_neg = i in mismatch_idx
            for _attempt in range(40):
                fmt = {"p": short, "b": brand, "n": rng.randint(2, 4), "w": rng.randint(3, 9),
                       "d": rng.randint(2, 6), "city": rng.choice(plan["cities"][lang])}
                title, text = compose(rng, L, rating, kind, fmt, is_product, force_neg)
                if text not in seen_texts:
                    break
            seen_texts.add(text)
            if not force_neg and rng.random() < 0.08:  # rating only, sometimes with a title
                text = ""
                if rng.random() < 0.5:
                    title = ""
            author, email = person(rng, slug, lang, ["example.com"] if lang == "en" else domains)
            created = whens[i]
            item = {"source": "forms" if is_product else "trustpilot", "external_id": "", "rating": rating,
                    "title": title, "text": text, "author": author,
                    "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "language": lang,
                    "product": sku if is_product else None, "verified": is_product or rng.random() < 0.12,
                    "email": email if is_product else None, "order_ref": None, "_mismatch": force_neg}
            if is_product:
                ordered = created - timedelta(days=rng.randint(6, 40))
                seq = ordered.timetuple().tm_yday * 12 + rng.randrange(12)
                while f"FD-{ordered.year}-{seq:06d}" in order_numbers:
                    seq += 1
                item["order_ref"] = f"FD-{ordered.year}-{seq:06d}"
                order_numbers.add(item["order_ref"])
            else:  # Trustpilot-style id: 8 hex digits of the unix time, then 16 random hex digits
                item["external_id"] = f"{int(created.timestamp()):08x}{rng.getrandbits(64):016x}"
            items.append(item)
        items.sort(key=lambda r: r["created_at"])
        for item in items:  # invitation numbers grow with time
            if item["source"] == "forms":
                inv += rng.randint(1, 25)
                item["external_id"] = f"inv-{inv:06d}-{item['product']}"
        for item in items:
            if item.pop("_mismatch"):
                MISMATCH_IDS.append((slug, item["external_id"]))
        reviews[slug] = items
    return {"business_units": BUSINESS_UNITS, "products": products, "reviews": reviews}


def main() -> None:
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    n = {bu: len(r) for bu, r in data["reviews"].items()}
    print(f"wrote {OUT} ({n})")
    print("5-star reviews with a negative text:", MISMATCH_IDS)


if __name__ == "__main__":
    main()
