// The vocabulary, shipped as data. W3C DPV 2.x terms keep their names and IRIs (each one
// checked against the DPV 2.2 CSV sources, see README "Where the terms come from"); the
// city's own terms live under Civic Ledger's namespace, the same one the ODRL export uses.
// A few ids the rest of the project already writes are not DPV names (dpv:PublicTask,
// dpv:VehicleLicence, dpv:KAnonymity): they are kept as aliases, with the IRI of the DPV
// concept they stand for where one exists, and say so in `note`.

export const DPV_NS = 'https://w3id.org/dpv#';
export const PD_NS = 'https://w3id.org/dpv/pd#';
export const EU_GDPR_NS = 'https://w3id.org/dpv/legal/eu/gdpr#';
/** Civic Ledger's own terms: `city:X` → `<TERMS_NS>city#X`, `x-org:X` → `<TERMS_NS>x-org#X`. */
export const TERMS_NS = 'https://civic-ledger.example/terms/';

/** Where a term comes from. `alias`: an id the project uses that DPV spells otherwise. */
export type TermSource = 'dpv' | 'pd' | 'eu-gdpr' | 'city' | 'alias' | 'custom';

export interface Term {
  /** The CURIE the events use (`dpv:ServiceProvision`, `city:TrafficManagement`). */
  readonly id: string;
  /** Its IRI; absent only for an alias with no DPV concept behind it. */
  readonly iri?: string;
  readonly label: string;
  /** Broader terms (a poly-hierarchy: several are allowed; none for a root). */
  readonly parents: readonly string[];
  readonly source: TermSource;
  readonly note?: string;
}

export interface PurposeTerm extends Term {
  /** GDPR art. 89 purposes (scientific research, official statistics): further processing with safeguards. */
  readonly art89?: boolean;
  readonly description?: string;
  /** For a custom purpose: the organization that declared it. */
  readonly declaredBy?: string;
}

export interface LegalBasisTerm extends Term {
  /** GDPR art. 6(1) letter, where the basis is one of the six. */
  readonly article?: string;
}

/** The IRI of a term id by its prefix (our namespace for anything that is not DPV's). */
export function defaultIri(id: string): string {
  const colon = id.indexOf(':');
  const prefix = id.slice(0, colon);
  const name = id.slice(colon + 1);
  if (prefix === 'dpv') return DPV_NS + name;
  if (prefix === 'pd') return PD_NS + name;
  if (prefix === 'eu-gdpr') return EU_GDPR_NS + name;
  return `${TERMS_NS}${prefix}#${name}`;
}

type Extra = Partial<Omit<PurposeTerm & LegalBasisTerm, 'id' | 'iri' | 'label' | 'parents' | 'source'>>;

function make(prefix: string, ns: string, source: TermSource) {
  return (name: string, label: string, parents: string[], extra: Extra = {}): Term & Extra => ({
    id: `${prefix}:${name}`,
    iri: ns + name,
    label,
    parents,
    source,
    ...extra,
  });
}
const dpv = make('dpv', DPV_NS, 'dpv');
const pd = make('pd', PD_NS, 'pd');
const city = make('city', `${TERMS_NS}city#`, 'city');

const P = (name: string) => `dpv:${name}`;

/** Purposes: DPV's purpose taxonomy (the part a city needs) and the city's purposes under it. */
export const PURPOSES: readonly PurposeTerm[] = [
  dpv('Purpose', 'Purpose', []),
  dpv('ServiceProvision', 'Service Provision', [P('Purpose')]),
  dpv('ServiceOptimisation', 'Service Optimisation', [P('ServiceProvision')]),
  dpv('OptimisationForController', 'Optimisation for Controller', [P('ServiceOptimisation')]),
  dpv('ImproveExistingProductsAndServices', 'Improve Existing Products and Services', [
    P('OptimisationForController'),
  ]),
  dpv('ServiceUsageAnalytics', 'Service Usage Analytics', [P('ServiceProvision')]),
  dpv('SellProducts', 'Sell Products', [P('ServiceProvision')]),
  dpv('SellDataToThirdParties', 'Sell Data to Third Parties', [P('SellProducts')]),
  dpv('SellInsightsFromData', 'Sell Insights from Data', [P('SellProducts')]),
  dpv('ResearchAndDevelopment', 'Research and Development', [P('Purpose')]),
  dpv('ScientificResearch', 'Scientific Research', [P('ResearchAndDevelopment')], { art89: true }),
  dpv('AcademicResearch', 'Academic Research', [P('ResearchAndDevelopment')]),
  dpv('CommercialPurpose', 'Commercial Purpose', [P('Purpose')]),
  dpv('NonCommercialPurpose', 'Non-commercial Purpose', [P('Purpose')]),
  dpv('CommercialResearch', 'Commercial Research', [P('ResearchAndDevelopment'), P('CommercialPurpose')]),
  dpv('NonCommercialResearch', 'Non-Commercial Research', [
    P('ResearchAndDevelopment'),
    P('NonCommercialPurpose'),
  ]),
  dpv('Marketing', 'Marketing', [P('Purpose')]),
  dpv('Advertising', 'Advertising', [P('Marketing')]),
  dpv('DirectMarketing', 'Direct Marketing', [P('Marketing')]),
  dpv('Personalisation', 'Personalisation', [P('Purpose')]),
  dpv('PersonalisedAdvertising', 'Personalised Advertising', [P('Advertising'), P('Personalisation')]),
  dpv('TargetedAdvertising', 'Targeted Advertising', [P('PersonalisedAdvertising')]),
  dpv('PublicBenefit', 'Public Benefit', [P('Purpose')]),
  dpv('ImproveTransportMobility', 'Improve Transport and Mobility', [P('PublicBenefit')]),
  dpv('ImprovePublicServices', 'Improve Public Services', [P('PublicBenefit')]),
  dpv('ProtectionOfPublicSecurity', 'Protection of Public Security', [P('PublicBenefit')]),
  dpv('ProtectionOfNationalSecurity', 'Protection of National Security', [P('PublicBenefit')]),
  dpv('Counterterrorism', 'Counterterrorism', [P('PublicBenefit')]),
  dpv('ProvideOfficialStatistics', 'Provide Official Statistics', [P('PublicBenefit')], { art89: true }),
  dpv('PublicPolicyMaking', 'Public Policy Making', [P('PublicBenefit')]),
  dpv('CombatClimateChange', 'Combat Climate Change', [P('PublicBenefit')]),
  dpv('ImproveHealthcare', 'Improve Healthcare', [P('PublicBenefit')]),
  dpv('EnforceSecurity', 'Enforce Security', [P('Purpose')]),
  dpv('MisusePreventionAndDetection', 'Misuse, Prevention and Detection', [P('EnforceSecurity')]),
  dpv('FraudPreventionAndDetection', 'Fraud Prevention and Detection', [P('MisusePreventionAndDetection')]),
  dpv('EnforceAccessControl', 'Enforce Access Control', [P('EnforceSecurity')]),
  dpv('FulfilmentOfObligation', 'Fulfilment of Obligation', [P('Purpose')]),
  dpv('LegalCompliance', 'Legal Compliance', [P('FulfilmentOfObligation')]),
  dpv('RecordManagement', 'Record Management', [P('Purpose')]),
  dpv('OrganisationGovernance', 'Organisation Governance', [P('Purpose')]),
  dpv('OrganisationComplianceManagement', 'Organisation Compliance Management', [
    P('OrganisationGovernance'),
  ]),

  city('TrafficManagement', 'Traffic management', [P('ImproveTransportMobility')], {
    description: 'Measure and manage traffic flow on the road network.',
  }),
  city('ParkingManagement', 'Parking management', ['city:TrafficManagement'], {
    description: 'Guide drivers to free parking spaces and manage parking zones.',
  }),
  city('DemandForecasting', 'Travel demand forecasting', [P('ImproveTransportMobility')], {
    description: 'Forecast travel demand for transport operations.',
  }),
  city('PublicSafety', 'Public safety', [P('ProtectionOfPublicSecurity')], {
    description: 'Keep people safe in public space.',
  }),
  city('RoadSafetyEnforcement', 'Road-safety enforcement', ['city:PublicSafety'], {
    description: 'Enforce traffic rules; not part of traffic management.',
  }),
  city('EnvironmentalMonitoring', 'Environmental monitoring', [P('PublicBenefit')], {
    description: 'Measure the state of the environment in public space.',
  }),
  city('AirQualityMonitoring', 'Air-quality monitoring', ['city:EnvironmentalMonitoring'], {
    description: 'Monitor air quality as environmental law requires.',
  }),
  city('UrbanPlanning', 'Urban planning', [P('ImprovePublicServices')], {
    description: 'Plan streets, transport and public space.',
  }),
  city('OfficialStatistics', 'Official statistics', [P('ProvideOfficialStatistics')], {
    description: 'Produce official statistics on the city.',
  }),
  city('Research', 'Research', [P('ScientificResearch')], {
    description: 'Scientific research on city data, with safeguards.',
  }),
  city('ServiceImprovement', 'Service improvement', [P('ImprovePublicServices'), P('ServiceOptimisation')], {
    description: 'Improve the city services that produce or use the data.',
  }),
  city('PublicInformation', 'Public information', [P('PublicBenefit')], {
    description: 'Inform the public about the state of the city.',
  }),
  city('Commercial', 'Commercial use', [P('CommercialPurpose')], {
    description: 'Use of city data by a business for its own commercial ends.',
  }),
  city('Advertising', 'Advertising', [P('Advertising'), P('CommercialPurpose')], {
    description: 'Advertising based on data collected in public space.',
  }),
  city('SaleToThirdParties', 'Sale to third parties', [P('SellDataToThirdParties'), P('CommercialPurpose')], {
    description: 'Selling or sharing data with third parties for compensation.',
  }),
];

/** Legal bases (DPV core, GDPR art. 6(1)) and the transfer bases of GDPR arts. 45-49 (DPV eu-gdpr). */
export const LEGAL_BASES: readonly LegalBasisTerm[] = [
  dpv('LegalBasis', 'Legal Basis', []),
  dpv('Consent', 'Consent', [P('LegalBasis')], { article: '6(1)(a)' }),
  dpv('Contract', 'Contract', [P('LegalBasis')], { article: '6(1)(b)' }),
  dpv('ContractPerformance', 'Contract Performance', [P('Contract')]),
  dpv('EnterIntoContract', 'Enter Into Contract', [P('Contract')]),
  dpv('LegalObligation', 'Legal Obligation', [P('LegalBasis')], { article: '6(1)(c)' }),
  dpv('VitalInterest', 'Vital Interest', [P('LegalBasis')], { article: '6(1)(d)' }),
  dpv('VitalInterestOfNaturalPerson', 'Vital Interest of Natural Person', [P('VitalInterest')]),
  dpv('VitalInterestOfDataSubject', 'Vital Interest of Data Subject', [P('VitalInterestOfNaturalPerson')]),
  dpv('PublicInterest', 'Public Interest', [P('LegalBasis')], { article: '6(1)(e)' }),
  dpv('OfficialAuthorityOfController', 'Official Authority of Controller', [P('LegalBasis')], {
    article: '6(1)(e)',
  }),
  {
    id: 'dpv:PublicTask',
    iri: `${EU_GDPR_NS}A6-1-e`,
    label: 'Public task (public interest or official authority)',
    parents: [P('PublicInterest'), P('OfficialAuthorityOfController')],
    source: 'alias',
    article: '6(1)(e)',
    note: 'Not a DPV name: the project writes dpv:PublicTask for GDPR art. 6(1)(e), eu-gdpr:A6-1-e in DPV.',
  },
  dpv('LegitimateInterest', 'Legitimate Interest', [P('LegalBasis')], { article: '6(1)(f)' }),
  dpv('LegitimateInterestOfController', 'Legitimate Interest of Controller', [P('LegitimateInterest')]),
  dpv('LegitimateInterestOfThirdParty', 'Legitimate Interest of Third Party', [P('LegitimateInterest')]),
  dpv('LegitimateInterestOfDataSubject', 'Legitimate Interest of Data Subject', [P('LegitimateInterest')]),
  dpv('DataTransferLegalBasis', 'Data Transfer Legal Basis', [P('LegalBasis')]),
  ...(
    [
      ['A45-3', 'Art 45(3) adequacy decision'],
      ['A46-2-a', 'Art 46(2-a) legal instrument'],
      ['A46-2-b', 'Art 46(2-b) Binding Corporate Rules (BCR)'],
      ['A46-2-c', 'Art 46(2-c) Standard Contractual Clauses (SCC) by EC'],
      ['A46-2-d', 'Art 46(2-d) Standard Contractual Clauses (SCC) by DPA'],
      ['A46-3-b', 'Art 46(3-b) administrative arrangements'],
    ] as const
  ).map(([name, label]): LegalBasisTerm => ({
    id: `eu-gdpr:${name}`,
    iri: EU_GDPR_NS + name,
    label,
    parents: [P('DataTransferLegalBasis')],
    source: 'eu-gdpr',
  })),
];

/** Data categories: DPV's personal-data categories a city meets, and the city's own. */
export const CATEGORIES: readonly Term[] = [
  dpv('PersonalData', 'Personal Data', []),
  dpv('SensitivePersonalData', 'Sensitive Personal Data', [P('PersonalData')]),
  dpv('SpecialCategoryPersonalData', 'Special Category Personal Data', [P('SensitivePersonalData')]),
  dpv('NonPersonalData', 'Non-Personal Data', []),
  pd('Tracking', 'Tracking', [P('PersonalData')]),
  pd('External', 'External', [P('PersonalData')]),
  pd('Social', 'Social', [P('PersonalData')]),
  pd('Location', 'Location', ['pd:Tracking']),
  pd('GPSCoordinate', 'GPS Coordinate', ['pd:Location']),
  pd('DeviceBased', 'Device Based', ['pd:Tracking']),
  pd('MACAddress', 'MAC Address', ['pd:DeviceBased']),
  pd('Identifier', 'Identifier', ['pd:Tracking']),
  pd('Identifying', 'Identifying', ['pd:External']),
  pd('Picture', 'Picture', ['pd:Identifying']),
  pd('Vehicle', 'Vehicle', ['pd:External']),
  pd('VehicleLicense', 'Vehicle License', ['pd:Identifying', 'pd:Vehicle']),
  pd('VehicleUsage', 'Vehicle Usage', ['pd:Vehicle']),
  pd('Biometric', 'Biometric', [P('SpecialCategoryPersonalData'), 'pd:Identifying']),
  pd('FacialPrint', 'Facial Print', ['pd:Biometric']),
  pd('Fingerprint', 'Fingerprint', ['pd:Biometric']),
  pd('MedicalHealth', 'Medical Health', [P('SpecialCategoryPersonalData'), 'pd:External']),
  pd('Health', 'Health', ['pd:MedicalHealth']),
  pd('EthnicOrigin', 'Ethnic Origin', [P('SpecialCategoryPersonalData')]),
  pd('Race', 'Race', [P('SpecialCategoryPersonalData')]),
  pd('Religion', 'Religion', [P('SpecialCategoryPersonalData')]),
  pd('PoliticalOpinion', 'Political Opinion', [P('SpecialCategoryPersonalData')]),
  pd('TradeUnionMembership', 'Trade Union Membership', [P('SpecialCategoryPersonalData')]),
  pd('Sexual', 'Sexual', [P('SpecialCategoryPersonalData')]),
  pd('Criminal', 'Criminal', ['pd:Social']),
  pd('CriminalOffence', 'Criminal Offence', ['pd:Criminal']),
  pd('CriminalConviction', 'Criminal Conviction', ['pd:Criminal']),
  {
    id: 'dpv:VehicleLicence',
    iri: `${PD_NS}VehicleLicense`,
    label: 'Vehicle licence (plate)',
    parents: ['pd:VehicleLicense'],
    source: 'alias',
    note: 'DPV spells it pd:VehicleLicense (personal-data extension); the demo city writes dpv:VehicleLicence.',
  },
  city('VideoFootage', 'Video footage of public space', ['pd:Picture']),
  city('VideoStill', 'Still image from video', ['pd:Picture']),
  city('DeviceIdentifierHash', 'Hashed device identifier', ['pd:Identifier', 'pd:DeviceBased']),
  city('PresenceTime', 'Time of presence at a place', ['pd:Location']),
  city('VehicleCount', 'Vehicle count', [P('NonPersonalData')]),
  city('OccupancyState', 'Parking bay occupancy state', [P('NonPersonalData')]),
  city('OccupancyRate', 'Parking occupancy rate', [P('NonPersonalData')]),
  city('FootfallCount', 'Footfall count', [P('NonPersonalData')]),
  city('MobilityIndicator', 'Mobility indicator', [P('NonPersonalData')]),
  city('AirPollutantConcentration', 'Air pollutant concentration', [P('NonPersonalData')]),
  city('WeatherObservation', 'Weather observation', [P('NonPersonalData')]),
  city('AirQualityIndex', 'Air-quality index', [P('NonPersonalData')]),
  city('CongestionLevel', 'Congestion level', [P('NonPersonalData')]),
  city('DemandModel', 'Travel demand model', [P('NonPersonalData')]),
  city('DemandForecast', 'Travel demand forecast', [P('NonPersonalData')]),
];

/** What a `use` does (`action`): DPV processing operations and the city's actions under them. */
export const ACTIONS: readonly Term[] = [
  dpv('Processing', 'Processing', []),
  dpv('Use', 'Use', [P('Processing')]),
  dpv('Analyse', 'Analyse', [P('Use')]),
  dpv('Assess', 'Assess', [P('Use')]),
  dpv('Consult', 'Consult', [P('Use')]),
  dpv('Monitor', 'Monitor', [P('Consult')]),
  dpv('Match', 'Match', [P('Use')]),
  dpv('Profiling', 'Profiling', [P('Use')]),
  dpv('Tracking', 'Tracking', [P('Use')]),
  dpv('Disclose', 'Disclose', [P('Processing')]),
  dpv('Share', 'Share', [P('Disclose')]),
  dpv('Store', 'Store', [P('Processing')]),
  city('LiveMonitoring', 'Live monitoring', [P('Monitor')]),
  city('SignalTiming', 'Traffic-signal timing', [P('Use')]),
  city('ParkingGuidance', 'Parking guidance', [P('Use')]),
  city('HealthAlert', 'Public health alert', [P('Disclose')]),
  city('StatisticalAnalysis', 'Statistical analysis', [P('Analyse')]),
  city('CongestionAnalysis', 'Congestion analysis', [P('Analyse')]),
  city('EmissionModelling', 'Emission modelling', [P('Analyse')]),
  city('ModelEvaluation', 'Model evaluation', [P('Assess')]),
  city('ServicePlanning', 'Service planning', [P('Use')]),
  city('Enforcement', 'Enforcement action', [P('Use')]),
  city('PersonTracking', 'Tracking a person', [P('Tracking')]),
  city('AdTargeting', 'Targeting advertisements', [P('Profiling')]),
];

/** Anonymisation techniques a `derive` may record (`anonymisation.technique`). */
export const TECHNIQUES: readonly Term[] = [
  dpv('Deidentification', 'De-Identification', []),
  dpv('Anonymisation', 'Anonymisation', [P('Deidentification')]),
  dpv('DifferentialPrivacy', 'Differential Privacy', [P('Anonymisation')], {
    note: 'DPV files it under CryptographicMethods; here it counts as an anonymisation technique.',
  }),
  {
    id: 'dpv:KAnonymity',
    label: 'k-anonymity',
    parents: [P('Anonymisation')],
    source: 'alias',
    note: 'Not a DPV 2.2 term (no IRI); kept because the demo city records it.',
  },
  city('CountOnlyExtraction', 'Count-only extraction (no identifier kept)', [P('Anonymisation')]),
  city('Aggregation', 'Aggregation above a minimum group size', [P('Anonymisation')]),
];

/**
 * What a prohibition forbids, for the prohibition terms the city uses. A prohibition that is
 * not listed here but is a known purpose or action forbids movements whose purpose (or whose
 * use's action) is within it; any other prohibition term is unknown.
 */
export interface ProhibitionTerm {
  readonly id: string;
  readonly iri?: string;
  readonly label: string;
  readonly source: TermSource;
  /** Any movement whose claimed purpose is within one of these. */
  readonly purposes?: readonly string[];
  /** Transfers and publications whose purpose is within one of these (a disclosure for money). */
  readonly disclosurePurposes?: readonly string[];
  /** Uses whose action is within one of these. */
  readonly actions?: readonly string[];
}

export const PROHIBITIONS: readonly ProhibitionTerm[] = [
  {
    id: 'city:SaleToThirdParties',
    iri: `${TERMS_NS}city#SaleToThirdParties`,
    label: 'No sale to third parties',
    source: 'city',
    purposes: ['dpv:SellDataToThirdParties', 'dpv:SellInsightsFromData'],
    disclosurePurposes: ['dpv:CommercialPurpose', 'dpv:Marketing', 'dpv:SellProducts'],
  },
  {
    id: 'city:PersonTracking',
    iri: `${TERMS_NS}city#PersonTracking`,
    label: 'No tracking of persons',
    source: 'city',
    actions: ['dpv:Tracking', 'dpv:Profiling'],
  },
];

/** Personal-data states (the `personalData` field) and the DPV concepts they stand for. */
export const PERSONAL_DATA_STATES = {
  identified: {
    iri: `${DPV_NS}IdentifyingPersonalData`,
    label: 'Identified (identifying personal data)',
    personal: true,
    rank: 4,
  },
  pseudonymised: { iri: `${DPV_NS}PseudonymisedData`, label: 'Pseudonymised data', personal: true, rank: 3 },
  'contextually-anonymised': {
    iri: `${DPV_NS}ContextuallyAnonymisedData`,
    label: 'Contextually anonymised data (still personal outside its context)',
    personal: true,
    rank: 2,
  },
  anonymised: { iri: `${DPV_NS}AnonymisedData`, label: 'Anonymised data', personal: false, rank: 1 },
  none: { iri: `${DPV_NS}NonPersonalData`, label: 'Non-personal data', personal: false, rank: 0 },
} as const;

export type PersonalDataState = keyof typeof PERSONAL_DATA_STATES;
