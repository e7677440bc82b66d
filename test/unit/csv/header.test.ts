// Header detection as a pure function: the first row against the rows beneath it, column by column.
import { describe, expect, it } from 'vitest';
import { columnVote, isSeries, looksLikeHeader, seriesColumns } from '../../../src/csv/header';

const rows = (text: string): string[][] => text.trim().split('\n').map((line) => line.split(','));
const split = (text: string): [string[], string[][]] => {
  const [first = [], ...body] = rows(text);
  return [first, body];
};

describe('looksLikeHeader', () => {
  it.each<[string, string, boolean]>([
    // Numbers as column names.
    ['years over decimals', 'nation,1998,1999,2000\nPeru,1.5,2.25,3.0\nChad,0.75,1.5,2.5\nFiji,4.5,5.0,6.25\n', true],
    ['years over four-digit figures (only the series tells)', 'site,2005,2006,2007,2008\nA1,1203,1450,1388,1502\nB2,2210,2315,2290,2404\nC3,1877,1901,1999,2010\n', true],
    ['years stepping by five, no label column', '2000,2005,2010,2015\n12.5,13.0,14.25,15.5\n11.0,12.5,13.5,14.0\n9.75,10.5,11.0,12.5\n', true],
    ['numbered account codes over amounts', 'entity,5000,5100,5200\nAcme,12.50,7.25,0.99\nGlobex,3.10,4.45,8.80\nInitech,5.55,6.60,7.70\n', true],
    ['unordered numeric codes over wide integers', 'fund,604,388,152\nF1,18230551,9034512,7001231\nF2,11293000,5612300,8834511\nF3,20010020,7453321,6100023\n', true],
    ['month-end dates over figures', 'ticker,2023-10-31,2023-11-30,2023-12-31\nXYZ,41,43,47\nQRS,12,11,15\nTUV,88,91,90\n', true],
    ['year-months over figures', 'line,2022-11,2022-12,2023-01\nL1,5,6,7\nL2,8,9,10\nL3,11,12,13\n', true],
    ['consecutive days over figures', 'desk,2024-02-27,2024-02-28,2024-02-29,2024-03-01\nD1,1,2,3,4\nD2,5,6,7,8\nD3,9,10,11,12\n', true],
    // Data rows that hold numbers: no header.
    ['figures over figures', '3,14.5,220\n4,15.25,231\n5,16.0,198\n6,17.75,205\n', false],
    ['one row per year', '1971,12.5,3301\n1972,13.0,3402\n1973,13.5,3199\n1974,14.0,3288\n', false],
    ['rows that all count up', '1,2,3\n4,5,6\n7,8,9\n10,11,12\n', false],
    // Sorted by a number: the first row is the only one a digit shorter, but it continues the order.
    ['headerless, sorted by price', 'Pen,9.99\nPad,10.50\nInk,12.00\nBag,45.25\n', false],
    ['headerless, ids from 9', 'alpha,9\nbeta,10\ngamma,11\ndelta,12\n', false],
    ['two years over sorted figures far wider', 'region,2019,2020\nNorth,12000,13000\nSouth,15000,16000\nEast,18000,19000\n', true],
    // Text first rows.
    ['words over typed columns', 'code,qty,price,day\nA,1,2.5,2024-01-01\nB,2,3.5,2024-01-02\nC,3,4.5,2024-01-03\n', true],
    ['a header over an all-text table', 'code,name,country\nLHR,Heathrow,United Kingdom\nCDG,Charles de Gaulle,France\nAMS,Schiphol,Netherlands\n', true],
    ['headerless: fixed-width codes and a missing figure', 'QZX,Lea Novak,Export,\nWRT,Omar Silva-Haddad,Retail,120.50\nPLK,Ana Tanaka,Online,98.10\nMNB,Tom Li,Retail,45.00\n', false],
    ['headerless: first row values repeat below', 'Retail,Lea Novak,\nOnline,Omar Silva,3\nRetail,Ana Tanaka,4\nOnline,Sara Haddad-Moreau,5\n', false],
    ['lowercase currency codes under a header of the same width, with a name column', 'ccy,name\nusd,US Dollar\neur,Euro\ngbp,Pound Sterling\n', true],
    ['a header with a repeated name is weaker but words still win over figures', 'id,name,name\n1,a,b\n2,c,d\n3,e,f\n', true],
  ])('%s → %s', (_name, text, header) => {
    const [first, body] = split(text);
    expect(looksLikeHeader(first, body)).toBe(header);
  });

  it('a header row alone is a header when it is words or a series, not when it is figures', () => {
    expect(looksLikeHeader(['id', 'name'], [])).toBe(true);
    expect(looksLikeHeader(['region', '2020', '2021', '2022'], [])).toBe(true);
    expect(looksLikeHeader(['12', '7', '3'], [])).toBe(false);
  });
});

describe('isSeries', () => {
  it.each<[string[], boolean]>([
    [['2019', '2020', '2021'], true],
    [['2021', '2020', '2019'], true],
    [['4000', '4100', '4200', '4300'], true],
    [['2024-01-31', '2024-02-29', '2024-03-31'], true],
    [['2024-01-15', '2024-02-15', '2024-03-15'], false],
    [['2024-01-01', '2024-01-02', '2024-01-03'], true],
    [['2023-11', '2023-12', '2024-01'], true],
    [['2019', '2020'], false],
    [['2019', '2020', '2022'], false],
    [['5', '5', '5'], false],
    [['2019', '2020', '2021-01'], false],
    [['1.5', '2.5', '3.5'], false],
  ])('%j → %s', (cells, expected) => expect(isSeries(cells)).toBe(expected));

  it('a series the rows below repeat in the same columns is not a header sign', () => {
    expect(seriesColumns(['a', '1', '2', '3'], [['b', '4', '5', '6'], ['c', '7', '8', '9']])).toEqual([]);
    expect(seriesColumns(['a', '2001', '2002', '2003'], [['b', '4', '9', '1'], ['c', '7', '3', '8']])).toEqual([1, 2, 3]);
  });
});

describe('columnVote', () => {
  it.each<[string, string[], number]>([
    ['amount', ['1', '2', '3'], 1],
    ['2019', ['1.25', '2.5', '3.75'], 1],
    ['2019', ['123456', '99999', '250000'], 1],
    ['2019', ['1203', '1450', '1388'], -1],
    ['17', ['12', '15', '19'], -1],
    // Widths of numbers written with separators or signs of their own are not compared.
    ['1,234', ['12,345', '123,456', '99,999'], -1],
    ['5%', ['12%', '40%', '75%'], -1],
    ['2024-03-31', ['5', '6', '7'], 1],
    ['1', ['yes', 'no', 'yes'], -0.5],
    ['code', ['LHR', 'CDG', 'AMS'], 1],
    ['XYZ', ['LHR', 'CDG', 'AMS'], -0.5],
    ['ccy', ['usd', 'eur', 'gbp'], -0.5],
    // Two words of one length are chance, not fixed-width codes.
    ['Wholesale', ['Online', 'Online', 'Export', 'Online'], 0],
    ['Lhr', ['LHR', 'CDG', 'AMS'], 0.5],
    ['name', ['Heathrow', 'Schiphol', 'Charles de Gaulle'], 0.5],
    ['City', ['Paris', 'Rome', 'Oslo'], 0],
    ['Paris', ['Rome', 'Paris', 'Oslo'], -1],
    ['', ['1', '2', '3'], 0],
  ])('%j over %j → %d', (head, values, vote) => expect(columnVote(head, values)).toBe(vote));
});
