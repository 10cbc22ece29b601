// Issuing-state codes for travel and identity documents.
//
// ICAO Doc 9303 Part 3 §5 identifies the issuing state or organisation by the
// ISO 3166-1 alpha-3 code, plus a small set of codes ICAO itself reserves for
// British nationality categories, United Nations documents, stateless persons
// and refugees, the European Union and Kosovo. Exceptionally reserved or
// transitionally reserved ISO codes are not in the table: a document issued
// today never carries one.

/** The 249 officially assigned ISO 3166-1 alpha-3 codes. */
export const ISO_3166_ALPHA3: readonly string[] = [
  'ABW', 'AFG', 'AGO', 'AIA', 'ALA', 'ALB', 'AND', 'ARE', 'ARG', 'ARM', 'ASM', 'ATA', 'ATF',
  'ATG', 'AUS', 'AUT', 'AZE', 'BDI', 'BEL', 'BEN', 'BES', 'BFA', 'BGD', 'BGR', 'BHR', 'BHS',
  'BIH', 'BLM', 'BLR', 'BLZ', 'BMU', 'BOL', 'BRA', 'BRB', 'BRN', 'BTN', 'BVT', 'BWA', 'CAF',
  'CAN', 'CCK', 'CHE', 'CHL', 'CHN', 'CIV', 'CMR', 'COD', 'COG', 'COK', 'COL', 'COM', 'CPV',
  'CRI', 'CUB', 'CUW', 'CXR', 'CYM', 'CYP', 'CZE', 'DEU', 'DJI', 'DMA', 'DNK', 'DOM', 'DZA',
  'ECU', 'EGY', 'ERI', 'ESH', 'ESP', 'EST', 'ETH', 'FIN', 'FJI', 'FLK', 'FRA', 'FRO', 'FSM',
  'GAB', 'GBR', 'GEO', 'GGY', 'GHA', 'GIB', 'GIN', 'GLP', 'GMB', 'GNB', 'GNQ', 'GRC', 'GRD',
  'GRL', 'GTM', 'GUF', 'GUM', 'GUY', 'HKG', 'HMD', 'HND', 'HRV', 'HTI', 'HUN', 'IDN', 'IMN',
  'IND', 'IOT', 'IRL', 'IRN', 'IRQ', 'ISL', 'ISR', 'ITA', 'JAM', 'JEY', 'JOR', 'JPN', 'KAZ',
  'KEN', 'KGZ', 'KHM', 'KIR', 'KNA', 'KOR', 'KWT', 'LAO', 'LBN', 'LBR', 'LBY', 'LCA', 'LIE',
  'LKA', 'LSO', 'LTU', 'LUX', 'LVA', 'MAC', 'MAF', 'MAR', 'MCO', 'MDA', 'MDG', 'MDV', 'MEX',
  'MHL', 'MKD', 'MLI', 'MLT', 'MMR', 'MNE', 'MNG', 'MNP', 'MOZ', 'MRT', 'MSR', 'MTQ', 'MUS',
  'MWI', 'MYS', 'MYT', 'NAM', 'NCL', 'NER', 'NFK', 'NGA', 'NIC', 'NIU', 'NLD', 'NOR', 'NPL',
  'NRU', 'NZL', 'OMN', 'PAK', 'PAN', 'PCN', 'PER', 'PHL', 'PLW', 'PNG', 'POL', 'PRI', 'PRK',
  'PRT', 'PRY', 'PSE', 'PYF', 'QAT', 'REU', 'ROU', 'RUS', 'RWA', 'SAU', 'SDN', 'SEN', 'SGP',
  'SGS', 'SHN', 'SJM', 'SLB', 'SLE', 'SLV', 'SMR', 'SOM', 'SPM', 'SRB', 'SSD', 'STP', 'SUR',
  'SVK', 'SVN', 'SWE', 'SWZ', 'SXM', 'SYC', 'SYR', 'TCA', 'TCD', 'TGO', 'THA', 'TJK', 'TKL',
  'TKM', 'TLS', 'TON', 'TTO', 'TUN', 'TUR', 'TUV', 'TWN', 'TZA', 'UGA', 'UKR', 'UMI', 'URY',
  'USA', 'UZB', 'VAT', 'VCT', 'VEN', 'VGB', 'VIR', 'VNM', 'VUT', 'WLF', 'WSM', 'YEM', 'ZAF',
  'ZMB', 'ZWE',
];

/**
 * Non-ISO codes that ICAO Doc 9303 Part 3 assigns for the issuing state or
 * nationality fields. Germany's one-letter MRZ code "D" is deliberately
 * absent: the human-readable form of a German document uses DEU.
 */
export const ICAO_SPECIAL_CODES: readonly string[] = [
  'GBD', // British Overseas Territories Citizen
  'GBN', // British National (Overseas)
  'GBO', // British Overseas Citizen
  'GBP', // British Protected Person
  'GBS', // British Subject
  'UNO', // United Nations Organization or one of its officials
  'UNA', // Specialized agency of the United Nations or one of its officials
  'UNK', // Resident of Kosovo to whom a travel document was issued by UNMIK
  'XXA', // Stateless person (1954 Convention)
  'XXB', // Refugee (1951 Convention and its 1967 Protocol)
  'XXC', // Refugee, other than as defined under XXB
  'XXX', // Person of unspecified nationality
  'EUE', // European Union
  'RKS', // Republic of Kosovo
];

const ISSUING_STATES: ReadonlySet<string> = new Set([...ISO_3166_ALPHA3, ...ICAO_SPECIAL_CODES]);

/** True when `code` (upper-case) may appear as a document's issuing state. */
export function isIssuingState(code: string): boolean {
  return ISSUING_STATES.has(code);
}
