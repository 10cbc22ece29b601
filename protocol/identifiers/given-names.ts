// Given-name equivalence classes for `name_dob_phonetic` (SPEC.md).
// A clerk renders a foreign given name either by transliteration (Пётр →
// Pyotr, Piotr, Petr) or by the local equivalent (Peter, Pierre, Pedro);
// the second is not a spelling a phonetic code can bridge, so the common
// European, Slavic, Greek and Arabic names are listed by class. Each class is
// named by its first spelling; a part in a class is coded as "=" + that name.
// The list is part of the protocol (a changed list is a new kind version).
// Spellings are upper-case ASCII as name parts arrive after transliteration.
const CLASSES: readonly (readonly string[])[] = [
  ['PETER', 'PYOTR', 'PIOTR', 'PETR', 'PIERRE', 'PEDRO', 'PIETRO', 'PETROS', 'PETRO', 'PETRU'],
  ['JOHN', 'JOHANN', 'JOHANNES', 'JAN', 'JEAN', 'JUAN', 'JOAO', 'GIOVANNI', 'IVAN', 'IOANNIS', 'GIANNIS', 'YANNIS', 'IOAN', 'IWAN', 'IOANN', 'JANIS', 'YAHYA', 'YAHIA'],
  ['ALEXANDER', 'ALEKSANDR', 'ALEKSANDER', 'ALEXANDRE', 'ALEJANDRO', 'ALESSANDRO', 'ALEXANDROS', 'ALEKSANDROS', 'OLEKSANDR', 'ALEKSANDAR', 'ISKANDAR', 'ISKANDER'],
  ['MICHAEL', 'MIKHAIL', 'MICHAIL', 'MICHEL', 'MIGUEL', 'MICHELE', 'MICHAL', 'MYKHAILO', 'MIHAIL', 'MIKAIL', 'MICHALIS', 'MIXAIL', 'MIKHAEL', 'MIKAEL'],
  ['GEORGE', 'GEORG', 'GEORGES', 'JORGE', 'GIORGIO', 'GEORGIOS', 'GIORGOS', 'YORGOS', 'YIORGOS', 'YEORGIOS', 'GHEORGHE', 'GIORGI', 'GEORGII', 'GEORGIY', 'GEORGI', 'JERZY', 'JIRI'],
  ['NICHOLAS', 'NIKOLAI', 'NIKOLAY', 'NICOLAS', 'NICOLA', 'NIKOLAOS', 'NIKOS', 'MIKOLAJ', 'MYKOLA', 'NIKOLA', 'NIKOLAJ', 'NIKOLAUS', 'NICOLAE'],
  ['PAUL', 'PAVEL', 'PAWEL', 'PABLO', 'PAOLO', 'PAVLOS', 'PAULO', 'PAVLO', 'PAVOL'],
  ['JOSEPH', 'JOSEF', 'IOSIF', 'OSIP', 'JOSE', 'GIUSEPPE', 'YUSUF', 'YOUSSEF', 'YOUSEF', 'YOSEF', 'JOZEF', 'YUSSUF', 'YOUSSOUF', 'JUSUF', 'IOSIFS', 'IUSUF'],
  ['MUHAMMAD', 'MOHAMMED', 'MOHAMED', 'MOHAMMAD', 'MOHAMAD', 'MUHAMMED', 'MUHAMED', 'MOUHAMED', 'MEHMET', 'MEHMED', 'MHMD', 'MOUHAMMAD', 'MAHOMED', 'MOHAMMEDH', 'MUHAMAD', 'MOHD'],
  ['AHMED', 'AHMAD', 'AHMET', 'AHMD', 'ACHMED', 'ACHMAD', 'AHMADH'],
  ['HUSSEIN', 'HUSSAIN', 'HUSEYIN', 'HUSAYN', 'HOUSSEIN', 'HUSEIN', 'HSIN', 'HUSAIN', 'HOSSEIN', 'HOUSSAIN', 'CHUSSEIN'],
  ['IBRAHIM', 'EBRAHIM', 'IBRAGIM', 'BRAHIM', 'ABRAHAM', 'AVRAHAM', 'ABRAMO', 'IBRAHEEM', 'IBRAHIMA'],
  ['OMAR', 'UMAR', 'OMER', 'OUMAR', 'UMER', 'AMR'],
  ['KHALID', 'KHALED', 'HALID', 'HALIT', 'CHALID', 'KHALEED', 'KHALIT'],
  ['DMITRY', 'DMITRI', 'DMITRIJ', 'DIMITRI', 'DIMITRIOS', 'DIMITRIS', 'DEMETRIUS', 'DMYTRO', 'DMITRIY', 'DIMITAR', 'DIMITRIJ'],
  ['SERGEI', 'SERGEY', 'SERGIJ', 'SERGE', 'SERGIO', 'SERHIY', 'SERGIY', 'SERGEJ', 'SERHII', 'SERGIUSZ'],
  ['ANDREW', 'ANDREI', 'ANDREY', 'ANDREAS', 'ANDRE', 'ANDRES', 'ANDREA', 'ANDRZEJ', 'ANDRIY', 'ANDREJ', 'ANDRII'],
  ['CATHERINE', 'EKATERINA', 'YEKATERINA', 'JEKATERINA', 'KATHARINA', 'CATERINA', 'KATARZYNA', 'AIKATERINI', 'CATALINA', 'KATERINA', 'CATHERINA', 'KATHERINE'],
  ['HELEN', 'ELENA', 'YELENA', 'JELENA', 'HELENE', 'HELENA', 'ELENI', 'OLENA', 'ELENE'],
  ['MARY', 'MARIA', 'MARIYA', 'MARIJA', 'MARIE', 'MARYAM', 'MARIAM', 'MIRIAM', 'MERYEM'],
  ['ANNA', 'ANNE', 'ANA', 'HANNA', 'HANNAH', 'GANNA'],
  ['NATALIA', 'NATALYA', 'NATALIJA', 'NATALIE', 'NATHALIE', 'NATALIYA'],
  ['TATIANA', 'TATYANA', 'TATJANA', 'TATIANNA', 'TETIANA', 'TETYANA'],
  ['YURI', 'YURIY', 'JURIJ', 'IOURI', 'YOURI', 'JURI', 'YURIJ', 'IURII'],
  ['CONSTANTINE', 'KONSTANTIN', 'CONSTANTIN', 'KONSTANTINOS', 'KOSTAS', 'COSTANTINO', 'KONSTANTY', 'KOSTYANTYN'],
  ['FATIMA', 'FATMA', 'FATIMAH', 'FATIMATA', 'FATEMEH', 'FATOUMATA'],
  ['AISHA', 'AICHA', 'AYSE', 'AYSHA', 'AISCHA', 'AYESHA', 'AISHAH', 'AIXA'],
  ['YAKOV', 'JAKOB', 'JACOB', 'JACQUES', 'IAKOV', 'YAKUB', 'YAQUB', 'JAKUB', 'GIACOMO', 'JAIME', 'YAAKOV', 'IAKOVOS'],
  ['LEV', 'LEO', 'LEON', 'LEONE', 'LEW'],
  ['EUGENE', 'EVGENY', 'YEVGENY', 'EVGENII', 'YEVGENIY', 'JEWGENI', 'EUGEN', 'EUGENIO', 'EVGENIOS', 'IEVGEN', 'YEVHEN', 'EVGENIJ', 'EVGENIY', 'JEVGENIJ', 'EVGUENI', 'IEVGUENI'],
  ['ELIAS', 'ILYA', 'ILIA', 'ILIAS', 'ELIE', 'ELIJAH', 'ILJA', 'ILIYA', 'ELIA', 'ELIASZ', 'ILIAS'],
  ['STEPHEN', 'STEPAN', 'STEFAN', 'STEPHANE', 'ESTEBAN', 'STEFANO', 'STEFANOS', 'STEPHANOS', 'SZCZEPAN', 'STEPHAN'],
  ['THEODORE', 'FYODOR', 'FEDOR', 'FIODOR', 'FJODOR', 'THEODOR', 'TEODOR', 'THEODOROS', 'TEODORO', 'FEODOR'],
  ['VASILY', 'VASILIY', 'VASSILI', 'WASSILI', 'WASILIJ', 'VASILEIOS', 'VASILIS', 'BASIL', 'BASILE', 'VASYL', 'WASYL', 'VASSILIS', 'VASILII', 'VASILIJ'],
  ['GREGORY', 'GRIGORY', 'GRIGORIY', 'GRIGORI', 'GREGOR', 'GREGOIRE', 'GREGORIO', 'GRIGORIOS', 'GRZEGORZ', 'HRYHORIY', 'GRIGORII', 'GRIGORIJ'],
  ['MATTHEW', 'MATVEY', 'MATVEI', 'MATTHIAS', 'MATHIEU', 'MATEO', 'MATTEO', 'MATEUSZ', 'MATTHAIOS', 'MATWEI', 'MATVEJ'],
  ['ZAKHAR', 'ZACHARY', 'ZACHARIAS', 'ZAKARIA', 'ZAKARIYA', 'ZAKARIYYA', 'SACHAR', 'ZACHARIE'],
  ['SOPHIA', 'SOFIA', 'SOFIYA', 'SOPHIE', 'SOFIJA', 'ZOFIA', 'SOFIE', 'SAFIYA'],
];

export const GIVEN_NAME_CLASSES: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const cls of CLASSES) {
    const name = cls[0] as string;
    for (const spelling of cls) {
      const seen = m.get(spelling);
      // One spelling in two classes would make the key depend on table order.
      if (seen !== undefined && seen !== name) throw new Error(`given-names: ${spelling} is in classes ${seen} and ${name}`);
      m.set(spelling, name);
    }
  }
  return m;
})();
