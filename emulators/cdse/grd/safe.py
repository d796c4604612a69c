"""A synthetic but physical Sentinel-1 IW GRD SAFE product: manifest, annotation, calibration, noise, measurement.

:class:`GrdScene` describes what the ground truth is (a constant sigma0 background on the flat WGS84
ellipsoid, a few bright point targets at pixel centres, an optional thermal-noise floor); :func:`render_safe`
writes the files a reader needs — ``manifest.safe``, ``annotation/*.xml`` (orbit state vectors, image
information, geolocation grid, slant/ground range polynomials), ``annotation/calibration/{calibration,
noise}-*.xml`` (constant β LUT, σ0/γ LUTs from the incidence, range/azimuth noise LUTs) and
``measurement/*.tiff`` (uint16 amplitude with GCPs) — with every value computed from one circular orbit.
"""

from __future__ import annotations

import hashlib
import io
import math
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from xml.sax.saxutils import escape

import numpy as np

from emulators.cdse.grd.geometry import C, SwathGeometry, ZeroDopplerLine, geodetic_of, incidence_angle, orbit_over

RADAR_FREQUENCY = 5.405000454334350e09
RANGE_SAMPLING_RATE = 6.434523812571428e07
BETA_LUT = 2000.0  # constant β calibration LUT (amplitude units), real products are ~237
GCP_LINES = 8
GCP_PIXELS = 9


@dataclass(frozen=True)
class GrdScene:
    """One synthetic GRD: where, when, how big, and the ground truth it images.

    ``lon``/``lat`` is the scene centre, ``start`` the first line's time (UTC), ``lines``×``samples`` the
    image at ``spacing`` metres. ``sigma0`` is the background truth (linear), ``targets`` a few (line, pixel)
    image positions holding a bright point of peak ``target_sigma0`` (blurred as a Gaussian of σ = 1 px);
    ``noise`` the thermal noise floor as a fraction of the background intensity (0 = none); ``border``
    near/far-range samples left at DN 0, as in real products; ``track_heading`` overrides the flight
    direction. Pixels hold DN = sqrt(β_LUT² · β0 + noise), rounded.
    """

    lon: float
    lat: float
    start: datetime
    ascending: bool = True
    mission: str = "S1A"
    absolute_orbit: int = 50_000
    relative_orbit: int = 117
    polarizations: tuple[str, ...] = ("VV", "VH")
    lines: int = 300
    samples: int = 400
    spacing: float = 20.0
    sigma0: float = 0.05
    cross_pol_ratio: float = 0.2
    targets: tuple[tuple[int, int], ...] = ((80, 100), (150, 200), (220, 310))
    target_sigma0: float = 20.0
    noise: float = 0.0
    border: int = 3
    ground_offset: float = 420_000.0
    track_heading: float | None = None

    @cached_property
    def heading(self) -> float:
        """Degrees clockwise from north (default: a sun-synchronous pass at mid-latitudes)."""
        if self.track_heading is not None:
            return self.track_heading
        return -12.0 if self.ascending else 192.0

    @cached_property
    def geometry(self) -> SwathGeometry:
        orbit = orbit_over(self.lon, self.lat, self.heading, self.ground_offset)
        # ground speed at the scene → azimuth interval; first line half the scene before time 0
        ground_speed = orbit.omega * 6_371_000.0
        half = (self.lines - 1) / 2 * self.spacing / ground_speed
        phi_near = (self.ground_offset - self.spacing * (self.samples - 1) / 2) / 6_371_000.0
        return SwathGeometry(orbit, -half, self.lines, self.samples, self.spacing, phi_near)

    @cached_property
    def t_ref(self) -> datetime:
        """The UTC time of orbit time 0 (the first line is ``start``)."""
        return self.start - timedelta(seconds=self.geometry.t_first)

    def utc(self, t: float) -> datetime:
        return self.t_ref + timedelta(seconds=float(t))

    @property
    def stop(self) -> datetime:
        return self.utc(self.geometry.t_last)

    @cached_property
    def incidence_grid(self) -> np.ndarray:
        """Ellipsoid incidence (degrees) per pixel, from the range conversion at mid-scene (varies only in range)."""
        g = self.geometry
        mid = (self.lines - 1) / 2
        p = g.ground_point(np.full(self.samples, mid), np.arange(self.samples, dtype=float))
        t = g.t_first + mid * g.azimuth_interval
        return incidence_angle(p, g.orbit.position(np.full(self.samples, t)))

    def beta0(self, pol: str) -> np.ndarray:
        """The true β0 image (lines × samples): background σ0/sin θ plus the point targets."""
        sigma = self.sigma0 * (1.0 if pol[0] == pol[1] else self.cross_pol_ratio)
        row = sigma / np.sin(np.radians(self.incidence_grid))
        beta = np.repeat(row[None, :], self.lines, axis=0)
        rows, cols = np.mgrid[-3:4, -3:4]
        blob = np.exp(-(rows**2 + cols**2) / 2.0)  # a point target as the system would blur it (σ = 1 px)
        for line, pixel in self.targets:
            peak = self.target_sigma0 / math.sin(math.radians(float(self.incidence_grid[pixel])))
            beta[line - 3 : line + 4, pixel - 3 : pixel + 4] += peak * blob
        return beta

    def noise_lut(self, pol: str) -> np.ndarray:
        """Thermal noise power (DN²) per sample: a range-varying floor (higher at the swath edges)."""
        if self.noise <= 0:
            return np.zeros(self.samples)
        sigma = self.sigma0 * (1.0 if pol[0] == pol[1] else self.cross_pol_ratio)
        x = np.linspace(-1.0, 1.0, self.samples)
        level = self.noise * BETA_LUT**2 * sigma / math.sin(math.radians(float(self.incidence_grid.mean())))
        return level * (0.8 + 0.4 * x**2)

    def measurement(self, pol: str) -> np.ndarray:
        power = BETA_LUT**2 * self.beta0(pol) + self.noise_lut(pol)[None, :]
        dn = np.clip(np.rint(np.sqrt(power)), 0, 65535).astype(np.uint16)
        if self.border:
            dn[:, : self.border] = 0
            dn[:, -self.border :] = 0
        return dn

    def target_lonlat(self) -> list[tuple[float, float]]:
        """The true (lon, lat) of each point target."""
        lines = np.array([t[0] for t in self.targets], float)
        pixels = np.array([t[1] for t in self.targets], float)
        lon, lat, _ = geodetic_of(self.geometry.ground_point(lines, pixels))
        return [(float(a), float(b)) for a, b in zip(lon, lat, strict=True)]

    def corners(self) -> list[tuple[float, float]]:
        """Footprint corners (lon, lat): first/last line × near/far sample, counter-clockwise, closed."""
        n, m = self.lines - 1, self.samples - 1
        p = self.geometry.ground_point(np.array([0, 0, n, n], float), np.array([0, m, m, 0], float))
        lon, lat, _ = geodetic_of(p)
        ring = [(float(a), float(b)) for a, b in zip(lon, lat, strict=True)]
        area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
        if area < 0:
            ring.reverse()
        return [*ring, ring[0]]

    # -- names
    @property
    def datatake(self) -> int:
        return (self.absolute_orbit * 8 + 3) % 0x100000

    @property
    def pol_code(self) -> str:
        pols = set(self.polarizations)
        if pols == {"VV", "VH"}:
            return "DV"
        if pols == {"HH", "HV"}:
            return "DH"
        return "S" + self.polarizations[0][0]

    @property
    def stem(self) -> str:
        fmt = "%Y%m%dT%H%M%S"
        unique = hashlib.md5(f"{self.start}{self.lon}{self.lat}".encode()).hexdigest()[:4].upper()
        return (
            f"{self.mission}_IW_GRDH_1S{self.pol_code}_{self.start.strftime(fmt)}_{self.stop.strftime(fmt)}_"
            f"{self.absolute_orbit:06d}_{self.datatake:06X}_{unique}"
        )

    @property
    def name(self) -> str:
        return self.stem + ".SAFE"

    def file_stem(self, pol: str, index: int) -> str:
        fmt = "%Y%m%dt%H%M%S"
        return (
            f"{self.mission.lower()}-iw-grd-{pol.lower()}-{self.start.strftime(fmt)}-{self.stop.strftime(fmt)}-"
            f"{self.absolute_orbit:06d}-{self.datatake:06x}-{index:03d}"
        )


def _t(when: datetime) -> str:
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _ads_header(scene: GrdScene, pol: str, index: int) -> str:
    return (
        f"<adsHeader><missionId>{scene.mission}</missionId><productType>GRD</productType>"
        f"<polarisation>{pol}</polarisation><mode>IW</mode><swath>IW</swath>"
        f"<startTime>{_t(scene.start)}</startTime><stopTime>{_t(scene.stop)}</stopTime>"
        f"<absoluteOrbitNumber>{scene.absolute_orbit}</absoluteOrbitNumber>"
        f"<missionDataTakeId>{scene.datatake}</missionDataTakeId><imageNumber>{index:03d}</imageNumber></adsHeader>"
    )


def _array(tag: str, values: np.ndarray | list[float], fmt: str = "{:.9e}") -> str:
    vals = list(values)
    return f'<{tag} count="{len(vals)}">{" ".join(fmt.format(v) for v in vals)}</{tag}>'


def _lut_pixels(scene: GrdScene) -> np.ndarray:
    return np.unique(np.r_[np.arange(0, scene.samples, 40), scene.samples - 1])


def _lut_lines(scene: GrdScene) -> np.ndarray:
    return np.unique(np.r_[np.arange(0, scene.lines, 50), scene.lines - 1])


def annotation_xml(scene: GrdScene, pol: str, index: int) -> str:
    g = scene.geometry
    orbit = g.orbit
    times = np.linspace(g.t_first - 30.0, g.t_last + 30.0, 11)
    pos, vel = orbit.position(times), orbit.velocity(times)
    orbits = "".join(
        f"<orbit><time>{_t(scene.utc(t))}</time><frame>Earth Fixed</frame>"
        f"<position><x>{p[0]:.6f}</x><y>{p[1]:.6f}</y><z>{p[2]:.6f}</z></position>"
        f"<velocity><x>{v[0]:.9f}</x><y>{v[1]:.9f}</y><z>{v[2]:.9f}</z></velocity></orbit>"
        for t, p, v in zip(times, pos, vel, strict=True)
    )
    near = g.conversions[0].sr0
    mid_inc = float(scene.incidence_grid[scene.samples // 2])
    gcp_lines = np.linspace(0, scene.lines - 1, GCP_LINES).round().astype(int)
    gcp_pixels = np.linspace(0, scene.samples - 1, GCP_PIXELS).round().astype(int)
    points = []
    for line in gcp_lines:
        t = g.t_first + line * g.azimuth_interval
        s = orbit.position(t)
        p = g.ground_point(np.full(len(gcp_pixels), float(line)), gcp_pixels.astype(float))
        lon, lat, h = geodetic_of(p)
        slant = np.linalg.norm(p - s, axis=-1)
        inc = incidence_angle(p, np.broadcast_to(s, p.shape))
        nadir = -s / np.linalg.norm(s)
        look = (p - s) / slant[:, None]
        elev = np.degrees(np.arccos(look @ nadir))
        for k, pixel in enumerate(gcp_pixels):
            points.append(
                f"<geolocationGridPoint><azimuthTime>{_t(scene.utc(t))}</azimuthTime>"
                f"<slantRangeTime>{2 * slant[k] / C:.15e}</slantRangeTime><line>{line}</line><pixel>{pixel}</pixel>"
                f"<latitude>{lat[k]:.12f}</latitude><longitude>{lon[k]:.12f}</longitude><height>{h[k]:.6f}</height>"
                f"<incidenceAngle>{inc[k]:.9f}</incidenceAngle><elevationAngle>{elev[k]:.9f}</elevationAngle>"
                "</geolocationGridPoint>"
            )
    conversions = "".join(
        f"<coordinateConversion><azimuthTime>{_t(scene.utc(c.t))}</azimuthTime>"
        f"<slantRangeTime>{2 * c.sr0 / C:.15e}</slantRangeTime><sr0>{c.sr0:.6f}</sr0>"
        f"{_array('srgrCoefficients', list(c.srgr), '{:.15e}')}<gr0>0.0</gr0>"
        f"{_array('grsrCoefficients', list(c.grsr), '{:.15e}')}</coordinateConversion>"
        for c in g.conversions
    )
    heading = scene.heading % 360 - (360 if scene.heading % 360 > 180 else 0)
    dn = scene.measurement(pol).astype(np.float64)
    mean, std = float(dn.mean()), float(dn.std())
    anx = scene.start - timedelta(minutes=25)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<product>'
        + _ads_header(scene, pol, index)
        + "<generalAnnotation><productInformation>"
        f"<pass>{'Ascending' if scene.ascending else 'Descending'}</pass>"
        "<timelinessCategory>Fast-24h</timelinessCategory>"
        f"<platformHeading>{heading:.6f}</platformHeading><projection>Ground Range</projection>"
        f"<rangeSamplingRate>{RANGE_SAMPLING_RATE:.15e}</rangeSamplingRate>"
        f"<radarFrequency>{RADAR_FREQUENCY:.15e}</radarFrequency>"
        "<azimuthSteeringRate>1.590368784000000e+00</azimuthSteeringRate></productInformation>"
        f'<orbitList count="{len(times)}">{orbits}</orbitList></generalAnnotation>'
        "<imageAnnotation><imageInformation>"
        f"<productFirstLineUtcTime>{_t(scene.start)}</productFirstLineUtcTime>"
        f"<productLastLineUtcTime>{_t(scene.stop)}</productLastLineUtcTime>"
        f"<ascendingNodeTime>{_t(anx)}</ascendingNodeTime><anchorTime>{_t(scene.start)}</anchorTime>"
        "<productComposition>Individual</productComposition><sliceNumber>1</sliceNumber>"
        '<sliceList count="0"></sliceList>'
        f"<slantRangeTime>{2 * near / C:.15e}</slantRangeTime><pixelValue>Detected</pixelValue>"
        "<outputPixels>16 bit Unsigned Integer</outputPixels>"
        f"<rangePixelSpacing>{scene.spacing:.6e}</rangePixelSpacing>"
        f"<azimuthPixelSpacing>{scene.spacing:.6e}</azimuthPixelSpacing>"
        f"<azimuthTimeInterval>{g.azimuth_interval:.15e}</azimuthTimeInterval>"
        f"<azimuthFrequency>{1 / g.azimuth_interval:.15e}</azimuthFrequency>"
        f"<numberOfSamples>{scene.samples}</numberOfSamples><numberOfLines>{scene.lines}</numberOfLines>"
        "<zeroDopMinusAcqTime>0.0</zeroDopMinusAcqTime>"
        f"<incidenceAngleMidSwath>{mid_inc:.12f}</incidenceAngleMidSwath>"
        f"<imageStatistics><outputDataMean><re>{mean:.6e}</re><im>0.0</im></outputDataMean>"
        f"<outputDataStdDev><re>{std:.6e}</re><im>0.0</im></outputDataStdDev></imageStatistics>"
        "</imageInformation></imageAnnotation>"
        '<swathTiming><linesPerBurst>0</linesPerBurst><samplesPerBurst>0</samplesPerBurst><burstList count="0"/>'
        "</swathTiming>"
        f'<geolocationGrid><geolocationGridPointList count="{len(points)}">{"".join(points)}'
        "</geolocationGridPointList></geolocationGrid>"
        f'<coordinateConversion><coordinateConversionList count="{len(g.conversions)}">{conversions}'
        "</coordinateConversionList></coordinateConversion></product>\n"
    )


def calibration_xml(scene: GrdScene, pol: str, index: int) -> str:
    g = scene.geometry
    pixels = _lut_pixels(scene)
    inc = np.radians(scene.incidence_grid[pixels])
    beta = np.full(len(pixels), BETA_LUT)
    sigma = BETA_LUT / np.sqrt(np.sin(inc))  # σ0 = DN²/A_σ² = β0 sin θ
    gamma = BETA_LUT / np.sqrt(np.tan(inc))  # γ0 = β0 tan θ on the ellipsoid
    vectors = "".join(
        f"<calibrationVector><azimuthTime>{_t(scene.utc(g.t_first + line * g.azimuth_interval))}</azimuthTime>"
        f"<line>{line}</line>{_array('pixel', list(pixels), '{}')}{_array('sigmaNought', sigma, '{:.6e}')}"
        f"{_array('betaNought', beta, '{:.6e}')}{_array('gamma', gamma, '{:.6e}')}"
        f"{_array('dn', beta, '{:.6e}')}</calibrationVector>"
        for line in _lut_lines(scene)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<calibration>'
        + _ads_header(scene, pol, index)
        + "<calibrationInformation><absoluteCalibrationConstant>1.000000e+00</absoluteCalibrationConstant>"
        f'</calibrationInformation><calibrationVectorList count="{len(_lut_lines(scene))}">{vectors}'
        "</calibrationVectorList></calibration>\n"
    )


def noise_xml(scene: GrdScene, pol: str, index: int) -> str:
    g = scene.geometry
    pixels = _lut_pixels(scene)
    lut = scene.noise_lut(pol)[pixels]
    lines = _lut_lines(scene)
    ranges = "".join(
        f"<noiseRangeVector><azimuthTime>{_t(scene.utc(g.t_first + line * g.azimuth_interval))}</azimuthTime>"
        f"<line>{line}</line>{_array('pixel', list(pixels), '{}')}{_array('noiseRangeLut', lut, '{:.6e}')}"
        "</noiseRangeVector>"
        for line in lines
    )
    azimuth = (
        "<noiseAzimuthVector><swath>IW</swath><firstAzimuthLine>0</firstAzimuthLine>"
        f"<firstRangeSample>0</firstRangeSample><lastAzimuthLine>{scene.lines - 1}</lastAzimuthLine>"
        f"<lastRangeSample>{scene.samples - 1}</lastRangeSample>{_array('line', list(lines), '{}')}"
        f"{_array('noiseAzimuthLut', np.ones(len(lines)), '{:.6e}')}</noiseAzimuthVector>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<noise>'
        + _ads_header(scene, pol, index)
        + f'<noiseRangeVectorList count="{len(lines)}">{ranges}</noiseRangeVectorList>'
        f'<noiseAzimuthVectorList count="1">{azimuth}</noiseAzimuthVectorList></noise>\n'
    )


def measurement_tiff(scene: GrdScene, pol: str) -> bytes:
    """The uint16 measurement GeoTIFF with the geolocation grid as GCPs (EPSG:4326), as ESA writes it."""
    import rasterio
    from rasterio.control import GroundControlPoint
    from rasterio.crs import CRS
    from rasterio.io import MemoryFile

    g = scene.geometry
    lines = np.linspace(0, scene.lines - 1, GCP_LINES)
    pixels = np.linspace(0, scene.samples - 1, GCP_PIXELS)
    ll, pp = np.meshgrid(lines, pixels, indexing="ij")
    lon, lat, h = geodetic_of(g.ground_point(ll, pp))
    gcps = [
        GroundControlPoint(row=float(r), col=float(c), x=float(x), y=float(y), z=float(z))
        for r, c, x, y, z in zip(ll.ravel(), pp.ravel(), lon.ravel(), lat.ravel(), h.ravel(), strict=True)
    ]
    data = scene.measurement(pol)
    with MemoryFile() as mem:
        profile = {"driver": "GTiff", "width": scene.samples, "height": scene.lines, "count": 1, "dtype": "uint16"}
        with mem.open(**profile, gcps=gcps, crs=CRS.from_epsg(4326)) as dst:
            dst.write(data, 1)
        with rasterio.Env():
            return bytes(mem.read())


def manifest_xml(scene: GrdScene, files: dict[str, tuple[str, int]]) -> str:
    """``files``: path → (repID, size)."""
    footprint = " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in scene.corners()[:4])
    objects = "".join(
        f'<dataObject ID="{escape(path.rsplit("/", 1)[-1].removesuffix(".xml").removesuffix(".tiff"))}" '
        f'repID="{rep}"><byteStream mimeType="application/octet-stream" size="{size}">'
        f'<fileLocation locatorType="URL" href="./{escape(path)}"/></byteStream></dataObject>'
        for path, (rep, size) in files.items()
    )
    pols = "".join(
        f"<s1sarl1:transmitterReceiverPolarisation>{p}</s1sarl1:transmitterReceiverPolarisation>"
        for p in scene.polarizations
    )
    anx = scene.start - timedelta(minutes=25)
    direction = "ASCENDING" if scene.ascending else "DESCENDING"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<xfdu:XFDU xmlns:xfdu="urn:ccsds:schema:xfdu:1" xmlns:gml="http://www.opengis.net/gml" '
        'xmlns:safe="http://www.esa.int/safe/sentinel-1.0" xmlns:s1="http://www.esa.int/safe/sentinel-1.0/sentinel-1" '
        'xmlns:s1sarl1="http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1" version="esa/safe/sentinel-1.0/'
        'sentinel-1/sar/level-1/standard/iwdp">'
        '<informationPackageMap><xfdu:contentUnit unitType="SAFE Archive Information Package" '
        'textInfo="Sentinel-1 IW Level-1 GRD Product"/></informationPackageMap><metadataSection>'
        '<metadataObject ID="platform" classification="DESCRIPTION" category="DMD"><metadataWrap mimeType="text/xml" '
        'vocabularyName="SAFE" textInfo="Platform Description"><xmlData><safe:platform>'
        f"<safe:nssdcIdentifier>2014-016A</safe:nssdcIdentifier><safe:familyName>SENTINEL-1</safe:familyName>"
        f"<safe:number>{scene.mission[-1]}</safe:number><safe:instrument>"
        '<safe:familyName abbreviation="SAR">Synthetic Aperture Radar</safe:familyName><safe:extension>'
        "<s1sarl1:instrumentMode><s1sarl1:mode>IW</s1sarl1:mode><s1sarl1:swath>IW</s1sarl1:swath>"
        "</s1sarl1:instrumentMode></safe:extension></safe:instrument></safe:platform></xmlData></metadataWrap>"
        "</metadataObject>"
        '<metadataObject ID="measurementOrbitReference" classification="DESCRIPTION" category="DMD"><metadataWrap '
        'mimeType="text/xml" vocabularyName="SAFE" textInfo="Orbit Reference"><xmlData><safe:orbitReference>'
        f'<safe:orbitNumber type="start">{scene.absolute_orbit}</safe:orbitNumber>'
        f'<safe:orbitNumber type="stop">{scene.absolute_orbit}</safe:orbitNumber>'
        f'<safe:relativeOrbitNumber type="start">{scene.relative_orbit}</safe:relativeOrbitNumber>'
        f'<safe:relativeOrbitNumber type="stop">{scene.relative_orbit}</safe:relativeOrbitNumber>'
        f"<safe:extension><s1:orbitProperties><s1:pass>{direction}</s1:pass>"
        f"<s1:ascendingNodeTime>{_t(anx)}</s1:ascendingNodeTime></s1:orbitProperties></safe:extension>"
        "</safe:orbitReference></xmlData></metadataWrap></metadataObject>"
        '<metadataObject ID="generalProductInformation" classification="DESCRIPTION" category="DMD"><metadataWrap '
        'mimeType="text/xml" vocabularyName="SAFE" textInfo="General Product Information"><xmlData>'
        "<s1sarl1:standAloneProductInformation><s1sarl1:instrumentConfigurationID>1"
        f"</s1sarl1:instrumentConfigurationID><s1sarl1:missionDataTakeID>{scene.datatake}</s1sarl1:missionDataTakeID>"
        f"{pols}<s1sarl1:productClass>S</s1sarl1:productClass><s1sarl1:productComposition>Individual"
        "</s1sarl1:productComposition><s1sarl1:productType>GRD</s1sarl1:productType>"
        "<s1sarl1:productTimelinessCategory>Fast-24h</s1sarl1:productTimelinessCategory>"
        "</s1sarl1:standAloneProductInformation></xmlData></metadataWrap></metadataObject>"
        '<metadataObject ID="acquisitionPeriod" classification="DESCRIPTION" category="DMD"><metadataWrap '
        'mimeType="text/xml" vocabularyName="SAFE" textInfo="Acquisition Period"><xmlData><safe:acquisitionPeriod>'
        f"<safe:startTime>{_t(scene.start)}</safe:startTime><safe:stopTime>{_t(scene.stop)}</safe:stopTime>"
        "</safe:acquisitionPeriod></xmlData></metadataWrap></metadataObject>"
        '<metadataObject ID="measurementFrameSet" classification="DESCRIPTION" category="DMD"><metadataWrap '
        'mimeType="text/xml" vocabularyName="SAFE" textInfo="Frame Set"><xmlData><safe:frameSet><safe:frame>'
        '<safe:footPrint srsName="http://www.opengis.net/gml/srs/epsg.xml#4326">'
        f"<gml:coordinates>{footprint}</gml:coordinates></safe:footPrint></safe:frame></safe:frameSet></xmlData>"
        "</metadataWrap></metadataObject></metadataSection>"
        f"<dataObjectSection>{objects}</dataObjectSection></xfdu:XFDU>\n"
    )


@dataclass
class SafeFiles:
    """The rendered product: path below the SAFE root → bytes."""

    name: str
    files: dict[str, bytes] = field(default_factory=dict)

    def zip_bytes(self) -> bytes:
        """The product as CDSE delivers it: a zip holding ``<name>.SAFE/…``."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for path, data in sorted(self.files.items()):
                info = zipfile.ZipInfo(f"{self.name}/{path}", date_time=(2020, 1, 1, 0, 0, 0))
                zf.writestr(info, data)
        return buf.getvalue()


def render_safe(scene: GrdScene) -> SafeFiles:
    """Every file of the scene's SAFE product."""
    out = SafeFiles(scene.name)
    reps: dict[str, tuple[str, int]] = {}
    for index, pol in enumerate(scene.polarizations, start=1):
        stem = scene.file_stem(pol, index)
        parts = {
            f"annotation/{stem}.xml": ("s1Level1ProductSchema", annotation_xml(scene, pol, index).encode()),
            f"annotation/calibration/calibration-{stem}.xml": (
                "s1Level1CalibrationSchema",
                calibration_xml(scene, pol, index).encode(),
            ),
            f"annotation/calibration/noise-{stem}.xml": ("s1Level1NoiseSchema", noise_xml(scene, pol, index).encode()),
            f"measurement/{stem}.tiff": ("s1Level1MeasurementSchema", measurement_tiff(scene, pol)),
        }
        for path, (rep, data) in parts.items():
            out.files[path] = data
            reps[path] = (rep, len(data))
    out.files["manifest.safe"] = manifest_xml(scene, reps).encode()
    return out


__all__ = ["GrdScene", "SafeFiles", "ZeroDopplerLine", "render_safe"]
