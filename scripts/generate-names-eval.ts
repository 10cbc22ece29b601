// Generates bench/data/names-eval.json: synthetic persons whose names are
// written the way several countries' clerks would write them, plus
// distractors, for `npm run bench -- names` and test/identifiers-phonetic.test.ts.
// Re-runnable and deterministic: `npm run names:generate`.
//
// Cyrillic and Greek names are rendered by the published romanisation
// conventions (tables below); Arabic names, whose short vowels the script
// omits, carry the spellings each convention's clerks use. Latin-script
// names are written with and without diacritics and with the German and
// French letter substitutions.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EvalRecord {
  /** Person id; distractors have their own ids. */
  person: string;
  /** The convention (the recording country's clerks) the record was written in. */
  convention: string;
  /** The `name_dob` input. */
  value: string;
  /** true for a distractor (a different person with a similar name). */
  distractor: boolean;
}

type Table = Readonly<Record<string, string>>;

// Russian Cyrillic. DE: Duden; FR: French usage; PL: Polish usage; EN:
// BGN/PCGN; ICAO: ICAO Doc 9303 Part 3 (the machine-readable zone of
// Russian passports since 2013).
const CYRILLIC: Readonly<Record<string, Table>> = {
  DE: { а: 'a', б: 'b', в: 'w', г: 'g', д: 'd', е: 'e', ё: 'jo', ж: 'sch', з: 's', и: 'i', й: 'i', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'ch', ц: 'z', ч: 'tsch', ш: 'sch', щ: 'schtsch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'ju', я: 'ja' },
  FR: { а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'io', ж: 'j', з: 'z', и: 'i', й: 'ï', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'ou', ф: 'f', х: 'kh', ц: 'ts', ч: 'tch', ш: 'ch', щ: 'chtch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'iou', я: 'ia' },
  PL: { а: 'a', б: 'b', в: 'w', г: 'g', д: 'd', е: 'e', ё: 'io', ж: 'ż', з: 'z', и: 'i', й: 'j', к: 'k', л: 'ł', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'ch', ц: 'c', ч: 'cz', ш: 'sz', щ: 'szcz', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'ju', я: 'ja' },
  EN: { а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'yo', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya' },
  ICAO: { а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'i', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ъ: 'ie', ы: 'y', ь: '', э: 'e', ю: 'iu', я: 'ia' },
};
// Word-final adjective endings each convention writes its own way.
const CYRILLIC_ENDINGS: Readonly<Record<string, Table>> = {
  DE: { ий: 'i', ый: 'y' },
  FR: { ий: 'i', ый: 'y' },
  PL: { ий: 'ij', ый: 'y' },
  EN: { ий: 'iy', ый: 'yy' },
  ICAO: { ий: 'ii', ый: 'y' },
};
const CYRILLIC_VOWELS = 'аеёиоуыэюяьъ';

function romaniseCyrillic(text: string, conv: string): string {
  const table = CYRILLIC[conv] as Table;
  const endings = CYRILLIC_ENDINGS[conv] as Table;
  return text
    .split(' ')
    .map((word) => {
      const lower = word.toLowerCase();
      let out = '';
      for (let i = 0; i < lower.length; i++) {
        const rest = lower.slice(i);
        const ending = Object.keys(endings).find((e) => rest === e);
        if (ending !== undefined) {
          out += endings[ending];
          break;
        }
        const ch = lower[i] as string;
        const prev = i === 0 ? '' : (lower[i - 1] as string);
        // е at the start or after a vowel is iotated: Je/Ye in DE, PL and EN.
        if (ch === 'е' && (i === 0 || CYRILLIC_VOWELS.includes(prev)) && conv !== 'ICAO' && conv !== 'FR') {
          out += conv === 'EN' ? 'ye' : 'je';
          continue;
        }
        // A single с between vowels is doubled in German and French to keep it voiceless.
        if (ch === 'с' && (conv === 'DE' || conv === 'FR') && CYRILLIC_VOWELS.includes(prev) && CYRILLIC_VOWELS.includes(lower[i + 1] ?? '')) {
          out += 'ss';
          continue;
        }
        out += table[ch] ?? ch;
      }
      return out.charAt(0).toUpperCase() + out.slice(1);
    })
    .join(' ');
}

// Greek. ELOT: ELOT 743 / ISO 843; EN: English phonetic usage; FR and DE:
// the French and German renderings.
const GREEK_DIGRAPHS: Readonly<Record<string, Table>> = {
  ELOT: { ου: 'ou', αι: 'ai', ει: 'ei', οι: 'oi', μπ: 'mp', ντ: 'nt', γκ: 'gk', γγ: 'ng', αυ: 'av', ευ: 'ev' },
  EN: { ου: 'ou', αι: 'e', ει: 'i', οι: 'i', μπ: 'b', ντ: 'd', γκ: 'g', γγ: 'ng', αυ: 'av', ευ: 'ev' },
  FR: { ου: 'ou', αι: 'ai', ει: 'i', οι: 'oi', μπ: 'b', ντ: 'd', γκ: 'g', γγ: 'gg', αυ: 'av', ευ: 'ev' },
  DE: { ου: 'u', αι: 'ai', ει: 'i', οι: 'i', μπ: 'b', ντ: 'd', γκ: 'g', γγ: 'ng', αυ: 'aw', ευ: 'ew' },
};
const GREEK: Readonly<Record<string, Table>> = {
  ELOT: { α: 'a', β: 'v', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n', ξ: 'x', ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'f', χ: 'ch', ψ: 'ps', ω: 'o' },
  EN: { α: 'a', β: 'v', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n', ξ: 'x', ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'i', φ: 'f', χ: 'h', ψ: 'ps', ω: 'o' },
  FR: { α: 'a', β: 'v', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n', ξ: 'x', ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'ph', χ: 'kh', ψ: 'ps', ω: 'o' },
  DE: { α: 'a', β: 'w', γ: 'g', δ: 'd', ε: 'e', ζ: 's', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n', ξ: 'x', ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'f', χ: 'ch', ψ: 'ps', ω: 'o' },
};

function romaniseGreek(text: string, conv: string): string {
  const digraphs = GREEK_DIGRAPHS[conv] as Table;
  const table = GREEK[conv] as Table;
  return text
    .split(' ')
    .map((word) => {
      const lower = word.normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase();
      let out = '';
      for (let i = 0; i < lower.length; i++) {
        const pair = lower.slice(i, i + 2);
        // μπ and ντ inside a word stay mb/nd in the phonetic conventions.
        if (digraphs[pair] !== undefined && !((pair === 'μπ' || pair === 'ντ') && i > 0 && conv !== 'ELOT')) {
          out += digraphs[pair];
          i += 1;
          continue;
        }
        if ((pair === 'μπ' || pair === 'ντ') && i > 0 && conv !== 'ELOT') {
          out += pair === 'μπ' ? 'mb' : 'nd';
          i += 1;
          continue;
        }
        // Γ before a front vowel sounds y; English usage writes it so (Γιώργος → Yorgos).
        if (lower[i] === 'γ' && conv === 'EN' && i === 0 && 'ιε'.includes(lower[i + 1] ?? '')) {
          out += 'y';
          if (lower[i + 1] === 'ι' && 'οωαου'.includes(lower[i + 2] ?? '')) i += 1;
          continue;
        }
        out += table[lower[i] as string] ?? lower[i];
      }
      return out.charAt(0).toUpperCase() + out.slice(1);
    })
    .join(' ');
}

// Persons: family and given name in the original script, date of birth.
const RUSSIAN: readonly [string, string, string][] = [
  ['Рахманинов', 'Сергей', '1943-04-01'], ['Хрущёв', 'Никита', '1954-04-15'], ['Щербаков', 'Алексей', '1971-08-30'],
  ['Жуков', 'Георгий', '1966-12-01'], ['Соловьёв', 'Владимир', '1983-02-11'], ['Яковлев', 'Юрий', '1977-09-23'],
  ['Чернышевский', 'Николай', '1962-06-12'], ['Шевченко', 'Тарас', '1988-03-09'], ['Кузнецов', 'Дмитрий', '1990-10-05'],
  ['Воробьёв', 'Сергей', '1979-01-27'], ['Зайцев', 'Андрей', '1985-07-19'], ['Ефимов', 'Евгений', '1958-11-30'],
  ['Юсупов', 'Феликс', '1969-04-04'], ['Цветаева', 'Марина', '1992-10-08'], ['Ахматова', 'Анна', '1989-06-23'],
  ['Исаев', 'Максим', '1974-05-17'], ['Белоусов', 'Борис', '1981-12-24'], ['Федоров', 'Фёдор', '1967-02-28'],
  ['Григорьев', 'Григорий', '1995-08-14'], ['Семёнов', 'Семён', '1960-09-02'], ['Лебедев', 'Илья', '1986-01-13'],
  ['Журавлёв', 'Константин', '1978-03-21'], ['Мещеряков', 'Павел', '1972-07-07'], ['Козлова', 'Екатерина', '1993-11-11'],
  ['Орлова', 'Татьяна', '1984-04-29'], ['Васильев', 'Василий', '1963-05-05'], ['Шаповалов', 'Михаил', '1976-10-31'],
  ['Ильин', 'Иван', '1991-02-03'], ['Гончаров', 'Иосиф', '1957-12-12'], ['Хабибуллин', 'Рустам', '1987-06-06'],
];
const GREEK_PERSONS: readonly [string, string, string][] = [
  ['Παπαδόπουλος', 'Γεώργιος', '1975-11-02'], ['Χατζηδάκης', 'Ηλίας', '1982-03-14'], ['Κωνσταντίνου', 'Δημήτριος', '1969-07-25'],
  ['Μπακογιάννης', 'Νικόλαος', '1990-01-09'], ['Οικονόμου', 'Αικατερίνη', '1986-09-17'], ['Ντόκος', 'Παύλος', '1973-04-30'],
  ['Βασιλείου', 'Ευάγγελος', '1979-12-05'], ['Θεοδωρίδης', 'Θεόδωρος', '1965-06-21'], ['Ζαχαρίου', 'Ελένη', '1994-02-16'],
  ['Καραμανλής', 'Κωνσταντίνος', '1961-08-08'], ['Φωτόπουλος', 'Σταύρος', '1988-10-12'], ['Ψαρράς', 'Ιωάννης', '1977-05-28'],
  ['Σπυρόπουλος', 'Αντώνιος', '1984-11-19'], ['Γεωργίου', 'Μαρία', '1992-03-03'], ['Τσακαλώτος', 'Ευκλείδης', '1970-07-14'],
];
// Arabic: the script, then the English, French, German and Turkish
// clerks' spellings (family name, given name).
const ARABIC_PERSONS: readonly [string, string, readonly [string, string][]][] = [
  ['حسن محمد', '1980-02-15', [['Hassan', 'Mohammed'], ['Hassan', 'Mohamed'], ['Hasan', 'Mohammed'], ['Hasan', 'Muhammed']]],
  ['عبد الله أحمد', '1975-09-23', [['Abdullah', 'Ahmed'], ['Abdallah', 'Ahmed'], ['Abdallah', 'Achmed'], ['Abdullah', 'Ahmet']]],
  ['الخطيب عمر', '1988-06-30', [['Al-Khatib', 'Omar'], ['El Khatib', 'Omar'], ['Al-Chatib', 'Omar'], ['Hatip', 'Ömer']]],
  ['حسين علي', '1991-03-17', [['Hussein', 'Ali'], ['Houssein', 'Ali'], ['Hussein', 'Ali'], ['Hüseyin', 'Ali']]],
  ['إبراهيم يوسف', '1969-12-20', [['Ibrahim', 'Yusuf'], ['Ibrahim', 'Youssef'], ['Ibrahim', 'Jussuf'], ['İbrahim', 'Yusuf']]],
  ['الشامي خالد', '1983-07-29', [['Al-Shami', 'Khalid'], ['Al-Chami', 'Khaled'], ['Al-Schami', 'Chalid'], ['Şami', 'Halit']]],
  ['عبد الرحمن فاطمة', '1995-01-25', [['Abdulrahman', 'Fatima'], ['Abderrahmane', 'Fatima'], ['Abdel Rahman', 'Fatima'], ['Abdurrahman', 'Fatma']]],
  ['منصور سعيد', '1977-10-18', [['Mansour', 'Saeed'], ['Mansour', 'Saïd'], ['Mansur', 'Said'], ['Mansur', 'Sait']]],
  ['الحسيني مريم', '1986-04-26', [['Al-Husseini', 'Maryam'], ['El Husseini', 'Meriem'], ['Al-Husseini', 'Mariam'], ['Hüseyni', 'Meryem']]],
  ['القاسم عائشة', '1990-08-13', [['Al-Qasim', 'Aisha'], ['El Kacem', 'Aicha'], ['Al-Kasim', 'Aischa'], ['Kasım', 'Ayşe']]],
];
// Latin-script names: the written form, then how clerks without the letters write them.
const LATIN_PERSONS: readonly [string, string, string][] = [
  ['Müller', 'Jürgen', '1968-03-22'], ['Wałęsa', 'Lech', '1973-09-29'], ['Şahin', 'Mehmet', '1985-05-16'],
  ['Núñez', 'José', '1979-11-27'], ['Dvořák', 'Jiří', '1990-07-08'], ['Çelik', 'Ayşe', '1992-12-14'],
  ['Grünwald', 'Björn', '1981-04-19'], ['Kowalczyk', 'Małgorzata', '1976-02-21'], ['Öztürk', 'Gökhan', '1988-10-24'],
  ['Søndergaard', 'Åse', '1983-06-28'], ['Błaszczykowski', 'Jakub', '1985-12-13'], ['Weiß', 'Günther', '1964-08-17'],
];

// Spellings attested in different countries' press and records for the
// same people (dates invented): written by hand, not by the tables above,
// so they test the keys on variation the tables do not produce.
const ATTESTED: readonly [string, readonly (readonly [string, string])[]][] = [
  ['1940-05-07', [['RU', 'Чайковский Пётр'], ['DE', 'Tschaikowski, Peter'], ['FR', 'Tchaïkovski Piotr'], ['PL', 'Czajkowski Piotr'], ['EN', 'Tchaikovsky Pyotr']]],
  ['1951-03-02', [['RU', 'Горбачёв Михаил'], ['DE', 'Gorbatschow, Michail'], ['FR', 'Gorbatchev Mikhaïl'], ['PL', 'Gorbaczow Michaił'], ['EN', 'Gorbachev Mikhail']]],
  ['1961-11-11', [['RU', 'Достоевский Фёдор'], ['DE', 'Dostojewski, Fjodor'], ['FR', 'Dostoïevski Fiodor'], ['PL', 'Dostojewski Fiodor'], ['EN', 'Dostoevsky Fyodor']]],
  ['1971-02-01', [['RU', 'Ельцин Борис'], ['DE', 'Jelzin, Boris'], ['FR', 'Eltsine Boris'], ['PL', 'Jelcyn Borys'], ['EN', 'Yeltsin Boris']]],
  ['1962-06-07', [['AR', 'معمر القذافي'], ['EN', 'Muammar Gaddafi'], ['FR', 'Mouammar Kadhafi'], ['DE', 'Muammar al-Gaddafi'], ['TR', 'Muammer Kaddafi']]],
  ['1957-03-10', [['AR', 'أسامة بن لادن'], ['EN', 'Osama bin Laden'], ['FR', 'Oussama ben Laden'], ['DE', 'Usama bin Laden'], ['TR', 'Usame bin Ladin']]],
  ['1978-09-18', [['UK', 'Зеленський Володимир'], ['DE', 'Selenskyj, Wolodymyr'], ['FR', 'Zelensky Volodymyr'], ['PL', 'Zełenski Wołodymyr'], ['EN', 'Zelenskyy Volodymyr']]],
  ['1963-10-26', [['GR', 'Τσίπρας Αλέξης'], ['EN', 'Tsipras Alexis'], ['DE', 'Tsipras, Alexis'], ['FR', 'Tsípras Aléxis']]],
];

function latinVariants(text: string): Record<string, string> {
  const strip = (s: string): string => s.normalize('NFD').replace(/\p{Mn}/gu, '').replace(/ł/g, 'l').replace(/Ł/g, 'L').replace(/ø/g, 'o').replace(/ß/g, 'ss').replace(/ı/g, 'i');
  const german = text.replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/Ü/g, 'Ue').replace(/Ö/g, 'Oe').replace(/ş/g, 'sch').replace(/Ş/g, 'Sch').replace(/ç/g, 'tsch').replace(/Ç/g, 'Tsch').replace(/ß/g, 'ss').replace(/å/g, 'aa').replace(/Å/g, 'Aa').replace(/ø/g, 'oe');
  const french = text.replace(/ş/g, 'ch').replace(/Ş/g, 'Ch').replace(/ç/g, 'tch').replace(/Ç/g, 'Tch').replace(/ł/g, 'l');
  return { ORIG: text, ASCII: strip(text), DE: strip(german), FR: strip(french) };
}

// Deterministic pseudo-random choices (a fixed linear congruential sequence),
// so that regenerating gives the same file.
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function shiftDate(date: string, rnd: () => number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const kind = Math.floor(rnd() * 3);
  const yy = kind === 0 ? y + 1 + Math.floor(rnd() * 5) : y;
  const mm = kind === 1 ? ((m + Math.floor(rnd() * 10)) % 12) + 1 : m;
  const dd = kind === 2 ? ((d + 2 + Math.floor(rnd() * 20)) % 28) + 1 : Math.min(d, 28);
  return `${yy}-${String(mm).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
}

/** Another person with a similar name: one letter of the family name changed. */
function nearName(family: string, rnd: () => number): string {
  const chars = [...family];
  const i = 1 + Math.floor(rnd() * (chars.length - 1));
  const swaps: Record<string, string> = { а: 'о', о: 'а', е: 'и', и: 'е', к: 'г', т: 'д', с: 'з', в: 'ф', α: 'ο', ο: 'α', ι: 'η', κ: 'γ', a: 'e', e: 'a', i: 'y', o: 'u', k: 'g', s: 'z', n: 'm', r: 'l', l: 'r', z: 's' };
  const c = chars[i] as string;
  chars[i] = swaps[c] ?? swaps[c.toLowerCase()] ?? 'r';
  return chars.join('');
}

export function generateNamesEval(): EvalRecord[] {
  const rnd = lcg(20261202);
  const out: EvalRecord[] = [];
  const order = (family: string, given: string, conv: string, i: number): string =>
    // Clerks write "Family, Given", "Given Family" or "FAMILY Given".
    [`${family}, ${given}`, `${given} ${family}`, `${family.toUpperCase()} ${given}`][(i + conv.length) % 3] as string;
  RUSSIAN.forEach(([family, given, date], i) => {
    const person = `ru-${i + 1}`;
    out.push({ person, convention: 'RU', value: `${family} ${given}|${date}`, distractor: false });
    for (const conv of Object.keys(CYRILLIC)) {
      out.push({ person, convention: conv, value: `${order(romaniseCyrillic(family, conv), romaniseCyrillic(given, conv), conv, i)}|${date}`, distractor: false });
    }
    out.push({ person: `${person}-near`, convention: 'RU', value: `${nearName(family, rnd)} ${given}|${shiftDate(date, rnd)}`, distractor: true });
    out.push({ person: `${person}-other-date`, convention: 'EN', value: `${romaniseCyrillic(family, 'EN')} ${romaniseCyrillic(given, 'EN')}|${shiftDate(date, rnd)}`, distractor: true });
  });
  GREEK_PERSONS.forEach(([family, given, date], i) => {
    const person = `gr-${i + 1}`;
    out.push({ person, convention: 'GR', value: `${family} ${given}|${date}`, distractor: false });
    for (const conv of Object.keys(GREEK)) {
      out.push({ person, convention: conv, value: `${order(romaniseGreek(family, conv), romaniseGreek(given, conv), conv, i)}|${date}`, distractor: false });
    }
    out.push({ person: `${person}-near`, convention: 'GR', value: `${nearName(family, rnd)} ${given}|${shiftDate(date, rnd)}`, distractor: true });
    out.push({ person: `${person}-other-date`, convention: 'EN', value: `${romaniseGreek(family, 'EN')} ${romaniseGreek(given, 'EN')}|${shiftDate(date, rnd)}`, distractor: true });
  });
  const ARABIC_CONVENTIONS = ['EN', 'FR', 'DE', 'TR'];
  ARABIC_PERSONS.forEach(([script, date, spellings], i) => {
    const person = `ar-${i + 1}`;
    out.push({ person, convention: 'AR', value: `${script}|${date}`, distractor: false });
    spellings.forEach(([family, given], j) => {
      const conv = ARABIC_CONVENTIONS[j] as string;
      out.push({ person, convention: conv, value: `${order(family, given, conv, i)}|${date}`, distractor: false });
    });
    const [family, given] = spellings[0] as [string, string];
    out.push({ person: `${person}-near`, convention: 'EN', value: `${nearName(family, rnd)} ${given}|${shiftDate(date, rnd)}`, distractor: true });
    out.push({ person: `${person}-other-date`, convention: 'FR', value: `${family} ${given}|${shiftDate(date, rnd)}`, distractor: true });
  });
  LATIN_PERSONS.forEach(([family, given, date], i) => {
    const person = `la-${i + 1}`;
    const fam = latinVariants(family);
    const giv = latinVariants(given);
    for (const conv of Object.keys(fam)) {
      out.push({ person, convention: conv, value: `${order(fam[conv] as string, giv[conv] as string, conv, i)}|${date}`, distractor: false });
    }
    out.push({ person: `${person}-near`, convention: 'ASCII', value: `${nearName(fam.ASCII as string, rnd)} ${giv.ASCII}|${shiftDate(date, rnd)}`, distractor: true });
    out.push({ person: `${person}-other-date`, convention: 'ORIG', value: `${family} ${given}|${shiftDate(date, rnd)}`, distractor: true });
  });
  ATTESTED.forEach(([date, spellings], i) => {
    for (const [conv, name] of spellings) out.push({ person: `at-${i + 1}`, convention: conv, value: `${name}|${date}`, distractor: false });
  });
  return out;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'data', 'names-eval.json');
  mkdirSync(dirname(target), { recursive: true });
  const records = generateNamesEval();
  writeFileSync(target, `${JSON.stringify({ description: 'Synthetic persons written by several conventions, with distractors (scripts/generate-names-eval.ts)', records }, null, 1)}\n`);
  process.stdout.write(`wrote ${records.length} records to ${target}\n`);
}
