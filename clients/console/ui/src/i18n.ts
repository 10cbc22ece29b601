// The console's labels in English, Spanish, Portuguese and French. One
// typed table: every key has all four languages or the build fails. `t()`
// fills `{name}` placeholders; dates and numbers follow `locale()` through
// Intl, so the officer's language also sets day-month order and separators.
import type { Language } from './types';

export const LANGUAGES: readonly Language[] = ['en', 'es', 'pt', 'fr'];

/** The language names as their speakers write them (the selector shows each in its own language). */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', es: 'Español', pt: 'Português', fr: 'Français' };

const LOCALES: Record<Language, string> = { en: 'en-GB', es: 'es-ES', pt: 'pt-PT', fr: 'fr-FR' };

type Row = readonly [en: string, es: string, pt: string, fr: string];

const T = {
  // Shell and navigation
  'nav.main': ['Main', 'Principal', 'Principal', 'Principal'],
  'nav.overview': ['Overview', 'Resumen', 'Visão geral', 'Vue d’ensemble'],
  'nav.matches': ['Matches', 'Coincidencias', 'Correspondências', 'Correspondances'],
  'nav.query': ['Query', 'Consulta', 'Consulta', 'Requête'],
  'nav.audit': ['Audit', 'Auditoría', 'Auditoria', 'Audit'],
  'nav.trends': ['Trends', 'Tendencias', 'Tendências', 'Tendances'],
  'shell.sub': ['Investigator console', 'Consola del investigador', 'Consola do investigador', 'Console de l’enquêteur'],
  'shell.agency': ['Agency', 'Agencia', 'Agência', 'Agence'],
  'shell.officer': ['Officer', 'Agente', 'Agente', 'Agent'],
  'shell.logout': ['Log out', 'Cerrar sesión', 'Terminar sessão', 'Se déconnecter'],
  'shell.language': ['Language', 'Idioma', 'Idioma', 'Langue'],
  'shell.languageSaved': ['Language saved.', 'Idioma guardado.', 'Idioma guardado.', 'Langue enregistrée.'],
  'shell.signedOut': ['You have signed out.', 'Ha cerrado la sesión.', 'Terminou a sessão.', 'Vous êtes déconnecté.'],
  'shell.sessionEnded': ['Your session has ended. Sign in again to continue; the query form is kept.', 'Su sesión ha terminado. Vuelva a iniciar sesión para continuar; el formulario de consulta se conserva.', 'A sua sessão terminou. Inicie sessão de novo para continuar; o formulário de consulta é mantido.', 'Votre session a expiré. Reconnectez-vous pour continuer ; le formulaire de requête est conservé.'],
  'shell.expiring': ['Your session ends in {time} without activity.', 'Su sesión termina en {time} sin actividad.', 'A sua sessão termina em {time} sem atividade.', 'Votre session se termine dans {time} sans activité.'],
  'shell.stay': ['Stay signed in', 'Mantener la sesión', 'Manter a sessão', 'Rester connecté'],
  'common.error': ['Something went wrong: {msg}', 'Algo ha fallado: {msg}', 'Algo correu mal: {msg}', 'Une erreur s’est produite : {msg}'],
  'common.refresh': ['Refresh', 'Actualizar', 'Atualizar', 'Actualiser'],
  'common.tryAgain': ['Try again', 'Reintentar', 'Tentar de novo', 'Réessayer'],
  'common.loading': ['Loading…', 'Cargando…', 'A carregar…', 'Chargement…'],
  'common.apply': ['Apply filters', 'Aplicar filtros', 'Aplicar filtros', 'Appliquer les filtres'],
  'common.reset': ['Reset', 'Restablecer', 'Repor', 'Réinitialiser'],
  'common.none': ['none', 'ninguno', 'nenhum', 'aucun'],
  'common.technical': ['Technical details', 'Detalles técnicos', 'Detalhes técnicos', 'Détails techniques'],
  'common.couldNotLoad': ['Could not load {what}.', 'No se pudo cargar {what}.', 'Não foi possível carregar {what}.', 'Impossible de charger {what}.'],
  'notice.error': ['Error', 'Error', 'Erro', 'Erreur'],
  'notice.warn': ['Warning', 'Aviso', 'Aviso', 'Avertissement'],
  'notice.ok': ['Done', 'Hecho', 'Feito', 'Terminé'],
  'notice.info': ['Note', 'Nota', 'Nota', 'Remarque'],
  'people.one': ['{n} person', '{n} persona', '{n} pessoa', '{n} personne'],
  'people.other': ['{n} people', '{n} personas', '{n} pessoas', '{n} personnes'],

  // Login
  'login.title': ['Investigator console', 'Consola del investigador', 'Consola do investigador', 'Console de l’enquêteur'],
  'login.lead': ['Sign in with your officer ID. Every action in this console is recorded in the audit log.', 'Inicie sesión con su identificador de agente. Cada acción en esta consola queda registrada en la auditoría.', 'Inicie sessão com o seu identificador de agente. Cada ação nesta consola fica registada na auditoria.', 'Connectez-vous avec votre identifiant d’agent. Chaque action dans cette console est consignée dans le journal d’audit.'],
  'login.officer': ['Officer ID', 'Identificador de agente', 'Identificador de agente', 'Identifiant d’agent'],
  'login.password': ['Password', 'Contraseña', 'Palavra-passe', 'Mot de passe'],
  'login.submit': ['Sign in', 'Iniciar sesión', 'Iniciar sessão', 'Se connecter'],
  'login.busy': ['Signing in…', 'Iniciando sesión…', 'A iniciar sessão…', 'Connexion…'],
  'login.missing': ['Enter your officer ID and password.', 'Introduzca su identificador y contraseña.', 'Introduza o seu identificador e palavra-passe.', 'Saisissez votre identifiant et votre mot de passe.'],
  'login.wrong': ['Officer ID or password is incorrect.', 'Identificador o contraseña incorrectos.', 'Identificador ou palavra-passe incorretos.', 'Identifiant ou mot de passe incorrect.'],
  'login.wrongDetail': ['Repeated failures block sign-in for 15 minutes.', 'Los fallos repetidos bloquean el acceso durante 15 minutos.', 'Falhas repetidas bloqueiam o acesso durante 15 minutos.', 'Des échecs répétés bloquent la connexion pendant 15 minutes.'],
  'login.blocked': ['Too many failed sign-in attempts.', 'Demasiados intentos fallidos.', 'Demasiadas tentativas falhadas.', 'Trop de tentatives échouées.'],
  'login.blockedDetail': ['Sign-in is blocked for this officer ID or this computer. Try again after {time}.', 'El acceso está bloqueado para este identificador o este equipo. Inténtelo de nuevo después de las {time}.', 'O acesso está bloqueado para este identificador ou este computador. Tente de novo depois das {time}.', 'La connexion est bloquée pour cet identifiant ou cet ordinateur. Réessayez après {time}.'],
  'login.failed': ['Sign-in failed.', 'No se pudo iniciar sesión.', 'Não foi possível iniciar sessão.', 'La connexion a échoué.'],
  'login.again': ['You can try to sign in again.', 'Puede volver a intentarlo.', 'Pode tentar de novo.', 'Vous pouvez réessayer.'],

  // Overview
  'ov.title': ['Overview', 'Resumen', 'Visão geral', 'Vue d’ensemble'],
  'ov.lead': ['What happened since you last signed in, and what needs you today.', 'Lo ocurrido desde su último acceso y lo que requiere su atención hoy.', 'O que aconteceu desde o seu último acesso e o que precisa de si hoje.', 'Ce qui s’est passé depuis votre dernière connexion et ce qui vous attend aujourd’hui.'],
  'ov.loading': ['Loading overview…', 'Cargando el resumen…', 'A carregar a visão geral…', 'Chargement de la vue d’ensemble…'],
  'ov.what': ['the overview', 'el resumen', 'a visão geral', 'la vue d’ensemble'],
  'ov.since': ['Since your last sign-in ({time})', 'Desde su último acceso ({time})', 'Desde o seu último acesso ({time})', 'Depuis votre dernière connexion ({time})'],
  'ov.sinceEver': ['So far', 'Hasta ahora', 'Até agora', 'Jusqu’ici'],
  'ov.nothingNew': ['Nothing new since your last sign-in.', 'Nada nuevo desde su último acceso.', 'Nada de novo desde o seu último acesso.', 'Rien de nouveau depuis votre dernière connexion.'],
  'ov.newMatches': ['New matches with {partner}: {people}', 'Nuevas coincidencias con {partner}: {people}', 'Novas correspondências com {partner}: {people}', 'Nouvelles correspondances avec {partner} : {people}'],
  'ov.partnerConfirmed': ['{partner} confirmed matches: {people}', '{partner} confirmó coincidencias: {people}', '{partner} confirmou correspondências: {people}', '{partner} a confirmé des correspondances : {people}'],
  'ov.partnerDeclined': ['{partner} declined matches: {people}', '{partner} rechazó coincidencias: {people}', '{partner} recusou correspondências: {people}', '{partner} a refusé des correspondances : {people}'],
  'ov.lateAnswer': ['{partner} answered the query for case {caseRef} late: {hits}', '{partner} respondió tarde a la consulta del caso {caseRef}: {hits}', '{partner} respondeu tarde à consulta do caso {caseRef}: {hits}', '{partner} a répondu en retard à la requête du dossier {caseRef} : {hits}'],
  'ov.failedPair': ['Matching with {partner} failed: {reason}', 'Falló el cruce con {partner}: {reason}', 'O cruzamento com {partner} falhou: {reason}', 'Le rapprochement avec {partner} a échoué : {reason}'],
  'ov.open': ['Open in Matches', 'Abrir en Coincidencias', 'Abrir em Correspondências', 'Ouvrir dans Correspondances'],
  'ov.openQuery': ['Open the query', 'Abrir la consulta', 'Abrir a consulta', 'Ouvrir la requête'],
  'ov.hits.one': ['{n} hit', '{n} acierto', '{n} resultado positivo', '{n} résultat positif'],
  'ov.hits.other': ['{n} hits', '{n} aciertos', '{n} resultados positivos', '{n} résultats positifs'],
  'ov.awaiting': ['Agreements awaiting your agency’s acceptance', 'Acuerdos pendientes de aceptación por su agencia', 'Acordos a aguardar a aceitação da sua agência', 'Accords en attente d’acceptation par votre agence'],
  'ov.awaitingItem': ['{id} (version {version}) with {parties}; accepted so far by {accepted}; valid until {until}', '{id} (versión {version}) con {parties}; aceptado hasta ahora por {accepted}; válido hasta {until}', '{id} (versão {version}) com {parties}; aceite até agora por {accepted}; válido até {until}', '{id} (version {version}) avec {parties} ; accepté jusqu’ici par {accepted} ; valable jusqu’au {until}'],
  'ov.awaitingHow': ['Nothing is exchanged under an agreement before your agency accepts it. An administrator compares the parties’ key fingerprints and accepts it from the command line.', 'No se intercambia nada bajo un acuerdo antes de que su agencia lo acepte. Un administrador compara las huellas de las claves y lo acepta desde la línea de comandos.', 'Nada é trocado ao abrigo de um acordo antes de a sua agência o aceitar. Um administrador compara as impressões digitais das chaves e aceita-o na linha de comandos.', 'Rien n’est échangé au titre d’un accord avant que votre agence ne l’accepte. Un administrateur compare les empreintes des clés et l’accepte en ligne de commande.'],
  'ov.down': ['The coordinator has been unreachable since {time}.', 'El coordinador no responde desde {time}.', 'O coordenador está inacessível desde {time}.', 'Le coordinateur est injoignable depuis {time}.'],
  'ov.downDetail': ['Showing the last known agreements and results. Queries and decisions wait until it answers again.', 'Se muestran los últimos acuerdos y resultados conocidos. Las consultas y decisiones esperan a que vuelva a responder.', 'São mostrados os últimos acordos e resultados conhecidos. Consultas e decisões aguardam até voltar a responder.', 'Affichage des derniers accords et résultats connus. Les requêtes et décisions attendent son retour.'],
  'ov.termsAsOf': ['Agreement terms as last received on {time}.', 'Condiciones del acuerdo recibidas por última vez el {time}.', 'Condições do acordo recebidas pela última vez em {time}.', 'Conditions de l’accord reçues pour la dernière fois le {time}.'],
  'ov.auditFailed': ['The coordinator’s audit log failed your agency’s check on {time}.', 'La auditoría del coordinador no superó la comprobación de su agencia el {time}.', 'A auditoria do coordenador falhou a verificação da sua agência em {time}.', 'Le journal d’audit du coordinateur a échoué à la vérification de votre agence le {time}.'],
  'ov.auditFailedDetail': ['The coordinator may have rewritten or removed entries. Tell your administrator.', 'El coordinador puede haber reescrito o eliminado entradas. Avise a su administrador.', 'O coordenador pode ter reescrito ou removido entradas. Avise o seu administrador.', 'Le coordinateur a peut-être réécrit ou supprimé des entrées. Prévenez votre administrateur.'],
  'ov.watchlist': ['Watchlist', 'Lista de vigilancia', 'Lista de vigilância', 'Liste de surveillance'],
  'ov.watchlistPeople': ['{people} on the watchlist, imported {time}', '{people} en la lista, importada el {time}', '{people} na lista, importada em {time}', '{people} sur la liste, importée le {time}'],
  'ov.noWatchlist': ['No watchlist imported yet.', 'Aún no se ha importado ninguna lista.', 'Ainda não foi importada nenhuma lista.', 'Aucune liste importée pour l’instant.'],
  'ov.lastSync': ['Last exchange with partners', 'Último intercambio con los socios', 'Última troca com os parceiros', 'Dernier échange avec les partenaires'],
  'ov.syncOk': ['Succeeded', 'Correcto', 'Concluída', 'Réussi'],
  'ov.syncFailed': ['Failed', 'Fallido', 'Falhou', 'Échoué'],
  'ov.syncRunning': ['Running', 'En curso', 'Em curso', 'En cours'],
  'ov.noSync': ['No exchange has run yet.', 'Aún no se ha realizado ningún intercambio.', 'Ainda não houve nenhuma troca.', 'Aucun échange n’a encore eu lieu.'],
  'ov.nextSync': ['Next exchange', 'Próximo intercambio', 'Próxima troca', 'Prochain échange'],
  'ov.noNextSync': ['Not scheduled', 'Sin programar', 'Não agendada', 'Non programmé'],
  'ov.coordinator': ['Coordinator', 'Coordinador', 'Coordenador', 'Coordinateur'],
  'ov.reachable': ['Reachable', 'Disponible', 'Acessível', 'Joignable'],
  'ov.unreachable': ['Unreachable', 'No disponible', 'Inacessível', 'Injoignable'],
  'ov.partners': ['Partners and agreements', 'Socios y acuerdos', 'Parceiros e acordos', 'Partenaires et accords'],
  'ov.noPartners': ['No agreements with any partner agency yet.', 'Todavía no hay acuerdos con ninguna agencia.', 'Ainda não há acordos com nenhuma agência.', 'Aucun accord avec une agence partenaire pour l’instant.'],
  'ov.agreementsWith': ['Agreements with {partner}', 'Acuerdos con {partner}', 'Acordos com {partner}', 'Accords avec {partner}'],
  'ov.col.agreement': ['Agreement', 'Acuerdo', 'Acordo', 'Accord'],
  'ov.col.kinds': ['Identifier kinds', 'Tipos de identificador', 'Tipos de identificador', 'Types d’identifiant'],
  'ov.col.purposes': ['Purposes', 'Finalidades', 'Finalidades', 'Finalités'],
  'ov.col.validUntil': ['Valid until', 'Válido hasta', 'Válido até', 'Valable jusqu’au'],
  'ov.col.state': ['State', 'Estado', 'Estado', 'État'],
  'ov.col.lastSync': ['Last results', 'Últimos resultados', 'Últimos resultados', 'Derniers résultats'],
  'ov.col.matched': ['People matched', 'Personas coincidentes', 'Pessoas correspondentes', 'Personnes concordantes'],
  'ov.col.quota': ['Queries left today', 'Consultas restantes hoy', 'Consultas restantes hoje', 'Requêtes restantes aujourd’hui'],
  'ov.mode.reveal': ['Names matches', 'Revela coincidencias', 'Revela correspondências', 'Révèle les correspondances'],
  'ov.mode.count': ['Counts only', 'Solo recuento', 'Apenas contagem', 'Comptage seul'],
  'ov.expired': ['Expired', 'Caducado', 'Expirado', 'Expiré'],
  'ov.daysLeft': ['{n} days left', 'quedan {n} días', 'faltam {n} dias', 'encore {n} jours'],
  'ov.termsUnknown': ['unknown until the coordinator answers', 'desconocido hasta que responda el coordinador', 'desconhecido até o coordenador responder', 'inconnu jusqu’à la réponse du coordinateur'],
  'ov.state.complete': ['Up to date', 'Al día', 'Atualizado', 'À jour'],
  'ov.state.waiting': ['Waiting for the partner', 'Esperando al socio', 'À espera do parceiro', 'En attente du partenaire'],
  'ov.state.failed': ['Failed', 'Fallido', 'Falhou', 'Échoué'],
  'ov.state.unknown': ['Unknown', 'Desconocido', 'Desconhecido', 'Inconnu'],
  'ov.countMatches': ['{n} in common (count only)', '{n} en común (solo recuento)', '{n} em comum (apenas contagem)', '{n} en commun (comptage seul)'],
  'ov.noQueries': ['None (counts only)', 'Ninguna (solo recuento)', 'Nenhuma (apenas contagem)', 'Aucune (comptage seul)'],
  'ov.tech.epoch': ['Epoch {id}, started {time}', 'Época {id}, iniciada el {time}', 'Época {id}, iniciada em {time}', 'Époque {id}, commencée le {time}'],
  'ov.tech.pending': ['Partner chunks waiting to be processed here: {n}', 'Bloques del socio pendientes de procesar aquí: {n}', 'Blocos do parceiro à espera de processamento aqui: {n}', 'Blocs du partenaire en attente de traitement ici : {n}'],
  'ov.tech.identifiers': ['Identifiers on the watchlist: {n} (several per person)', 'Identificadores en la lista: {n} (varios por persona)', 'Identificadores na lista: {n} (vários por pessoa)', 'Identifiants sur la liste : {n} (plusieurs par personne)'],
  'ov.tech.pair': ['Pair {pair}: our set {mine} identifiers, partner’s {theirs}; {matches} matched identifiers', 'Par {pair}: nuestro conjunto {mine} identificadores, el del socio {theirs}; {matches} identificadores coincidentes', 'Par {pair}: o nosso conjunto {mine} identificadores, o do parceiro {theirs}; {matches} identificadores correspondentes', 'Paire {pair} : notre ensemble {mine} identifiants, celui du partenaire {theirs} ; {matches} identifiants concordants'],
  'ov.tech.log': ['Coordinator audit log last verified at size {size} on {time}', 'Auditoría del coordinador verificada por última vez con tamaño {size} el {time}', 'Auditoria do coordenador verificada pela última vez com tamanho {size} em {time}', 'Journal d’audit du coordinateur vérifié pour la dernière fois à la taille {size} le {time}'],
  'ov.tech.failedRuns': ['Failed runs', 'Ejecuciones fallidas', 'Execuções falhadas', 'Exécutions échouées'],
  'ov.tech.coordinatorError': ['Coordinator error: {msg}', 'Error del coordinador: {msg}', 'Erro do coordenador: {msg}', 'Erreur du coordinateur : {msg}'],

  // Query
  'q.title': ['Query', 'Consulta', 'Consulta', 'Requête'],
  'q.lead': ['Ask partner agencies whether they hold specific identifiers. Values are blinded before they leave this computer and are never stored.', 'Pregunte a las agencias socias si tienen identificadores concretos. Los valores se cifran antes de salir de este equipo y nunca se guardan.', 'Pergunte às agências parceiras se têm identificadores concretos. Os valores são cifrados antes de sair deste computador e nunca são guardados.', 'Demandez aux agences partenaires si elles détiennent des identifiants précis. Les valeurs sont masquées avant de quitter cet ordinateur et ne sont jamais conservées.'],
  'q.kind': ['Identifier kind', 'Tipo de identificador', 'Tipo de identificador', 'Type d’identifiant'],
  'q.values': ['Values', 'Valores', 'Valores', 'Valeurs'],
  'q.valuesHelp': ['One value per line (blank lines are ignored; at most {max}). Values stay in this page only. Example: {example}', 'Un valor por línea (las líneas vacías se ignoran; como máximo {max}). Los valores solo permanecen en esta página. Ejemplo: {example}', 'Um valor por linha (linhas vazias são ignoradas; no máximo {max}). Os valores ficam apenas nesta página. Exemplo: {example}', 'Une valeur par ligne (les lignes vides sont ignorées ; au plus {max}). Les valeurs restent dans cette page. Exemple : {example}'],
  'q.count.one': ['{n} value', '{n} valor', '{n} valor', '{n} valeur'],
  'q.count.other': ['{n} values', '{n} valores', '{n} valores', '{n} valeurs'],
  'q.tooMany': ['{n} values: too many, at most {max}', '{n} valores: demasiados, como máximo {max}', '{n} valores: demasiados, no máximo {max}', '{n} valeurs : trop, au plus {max}'],
  'q.partners': ['Partners', 'Socios', 'Parceiros', 'Partenaires'],
  'q.all': ['All allowed partners', 'Todos los socios permitidos', 'Todos os parceiros permitidos', 'Tous les partenaires autorisés'],
  'q.quotaLine': ['{left} of {perDay} queries left today, up to {max} values', 'quedan {left} de {perDay} consultas hoy, hasta {max} valores', 'restam {left} de {perDay} consultas hoje, até {max} valores', '{left} requêtes sur {perDay} restantes aujourd’hui, jusqu’à {max} valeurs'],
  'q.unavailable': ['unavailable: {why}', 'no disponible: {why}', 'indisponível: {why}', 'indisponible : {why}'],
  'q.noneLeft': ['no queries left today', 'no quedan consultas hoy', 'sem consultas restantes hoje', 'plus de requêtes aujourd’hui'],
  'q.notCovered': ['the agreement does not cover {purpose}', 'el acuerdo no cubre {purpose}', 'o acordo não abrange {purpose}', 'l’accord ne couvre pas {purpose}'],
  'q.noPartnerForKind': ['No partner agreement allows {kind} queries.', 'Ningún acuerdo permite consultas de {kind}.', 'Nenhum acordo permite consultas de {kind}.', 'Aucun accord ne permet de requêtes {kind}.'],
  'q.purpose': ['Purpose', 'Finalidad', 'Finalidade', 'Finalité'],
  'q.choosePurpose': ['Choose a purpose…', 'Elija una finalidad…', 'Escolha uma finalidade…', 'Choisissez une finalité…'],
  'q.case': ['Case reference', 'Referencia del caso', 'Referência do caso', 'Référence du dossier'],
  'q.caseHelp': ['Required; recorded in every partner’s audit log.', 'Obligatoria; queda registrada en la auditoría de cada socio.', 'Obrigatória; fica registada na auditoria de cada parceiro.', 'Obligatoire ; consignée dans le journal d’audit de chaque partenaire.'],
  'q.country': ['Default country for phone numbers (optional)', 'País por defecto para teléfonos (opcional)', 'País por omissão para telefones (opcional)', 'Pays par défaut des numéros de téléphone (facultatif)'],
  'q.countryHelp': ['Two-letter code (e.g. ES) used for numbers written without +country code.', 'Código de dos letras (p. ej. ES) para números escritos sin prefijo internacional.', 'Código de duas letras (p. ex. PT) para números escritos sem indicativo internacional.', 'Code à deux lettres (p. ex. FR) pour les numéros écrits sans indicatif international.'],
  'q.send': ['Send query', 'Enviar consulta', 'Enviar consulta', 'Envoyer la requête'],
  'q.sending': ['Querying partners…', 'Consultando a los socios…', 'A consultar os parceiros…', 'Interrogation des partenaires…'],
  'q.clear': ['Clear values', 'Borrar valores', 'Limpar valores', 'Effacer les valeurs'],
  'q.cleared': ['Values and results cleared from the page.', 'Valores y resultados borrados de la página.', 'Valores e resultados limpos da página.', 'Valeurs et résultats effacés de la page.'],
  'q.waiting': ['Waiting for partner answers… {s} s (up to {max} s)', 'Esperando respuestas… {s} s (hasta {max} s)', 'À espera de respostas… {s} s (até {max} s)', 'En attente des réponses… {s} s (jusqu’à {max} s)'],
  'q.noAgreement': ['No agreement allows targeted queries.', 'Ningún acuerdo permite consultas dirigidas.', 'Nenhum acordo permite consultas dirigidas.', 'Aucun accord ne permet de requêtes ciblées.'],
  'q.noAgreementDetail': ['Targeted queries need an agreement that names matches.', 'Las consultas dirigidas necesitan un acuerdo que revele coincidencias.', 'As consultas dirigidas precisam de um acordo que revele correspondências.', 'Les requêtes ciblées nécessitent un accord qui révèle les correspondances.'],
  'q.enterValue': ['Enter at least one value.', 'Introduzca al menos un valor.', 'Introduza pelo menos um valor.', 'Saisissez au moins une valeur.'],
  'q.tooManyTitle': ['Too many values: {n}.', 'Demasiados valores: {n}.', 'Demasiados valores: {n}.', 'Trop de valeurs : {n}.'],
  'q.tooManyDetail': ['Send at most {max} per query.', 'Envíe como máximo {max} por consulta.', 'Envie no máximo {max} por consulta.', 'Envoyez au plus {max} par requête.'],
  'q.choosePartner': ['Choose at least one partner, or “All allowed partners”.', 'Elija al menos un socio, o «Todos los socios permitidos».', 'Escolha pelo menos um parceiro, ou «Todos os parceiros permitidos».', 'Choisissez au moins un partenaire, ou « Tous les partenaires autorisés ».'],
  'q.tooManyFor': ['Too many values for {partners}: their agreement allows at most {max}.', 'Demasiados valores para {partners}: su acuerdo permite como máximo {max}.', 'Demasiados valores para {partners}: o acordo permite no máximo {max}.', 'Trop de valeurs pour {partners} : leur accord en permet au plus {max}.'],
  'q.needPurpose': ['Choose the purpose of this query.', 'Elija la finalidad de esta consulta.', 'Escolha a finalidade desta consulta.', 'Choisissez la finalité de cette requête.'],
  'q.needCase': ['Enter the case reference.', 'Introduzca la referencia del caso.', 'Introduza a referência do caso.', 'Saisissez la référence du dossier.'],
  'q.badCountry': ['The default country must be a two-letter code, e.g. ES.', 'El país por defecto debe ser un código de dos letras, p. ej. ES.', 'O país por omissão deve ser um código de duas letras, p. ex. PT.', 'Le pays par défaut doit être un code à deux lettres, p. ex. FR.'],
  'q.badLines': ['{n} lines are not valid {kind} values. Nothing was sent.', '{n} líneas no son valores de {kind} válidos. No se ha enviado nada.', '{n} linhas não são valores de {kind} válidos. Nada foi enviado.', '{n} lignes ne sont pas des valeurs {kind} valides. Rien n’a été envoyé.'],
  'q.badLine': ['Line {line} is not a valid {kind} value. Nothing was sent.', 'La línea {line} no es un valor de {kind} válido. No se ha enviado nada.', 'A linha {line} não é um valor de {kind} válido. Nada foi enviado.', 'La ligne {line} n’est pas une valeur {kind} valide. Rien n’a été envoyé.'],
  'q.lineIs': ['Line {line}: {why}', 'Línea {line}: {why}', 'Linha {line}: {why}', 'Ligne {line} : {why}'],
  'q.formatExample': ['A valid {kind} looks like: {example}', 'Un {kind} válido tiene esta forma: {example}', 'Um {kind} válido tem esta forma: {example}', 'Un {kind} valide ressemble à : {example}'],
  'q.refused': ['The coordinator refused this query.', 'El coordinador rechazó esta consulta.', 'O coordenador recusou esta consulta.', 'Le coordinateur a refusé cette requête.'],
  'q.down': ['The coordinator could not be reached. Nothing was sent.', 'No se pudo contactar con el coordinador. No se ha enviado nada.', 'Não foi possível contactar o coordenador. Nada foi enviado.', 'Le coordinateur est injoignable. Rien n’a été envoyé.'],
  'q.failed': ['The query failed.', 'La consulta falló.', 'A consulta falhou.', 'La requête a échoué.'],
  'q.sessionLost': ['Your session ended before the query went out. Sign in again: the form is kept.', 'Su sesión terminó antes de enviar la consulta. Vuelva a iniciar sesión: el formulario se conserva.', 'A sua sessão terminou antes de a consulta ser enviada. Inicie sessão de novo: o formulário é mantido.', 'Votre session a expiré avant l’envoi. Reconnectez-vous : le formulaire est conservé.'],
  'q.results': ['Results', 'Resultados', 'Resultados', 'Résultats'],
  'q.summary': ['Query {id}: {answered} of {asked} partners answered; {hits}.', 'Consulta {id}: respondieron {answered} de {asked} socios; {hits}.', 'Consulta {id}: responderam {answered} de {asked} parceiros; {hits}.', 'Requête {id} : {answered} partenaires sur {asked} ont répondu ; {hits}.'],
  'q.summaryNone': ['Query {id}: no partner has answered yet.', 'Consulta {id}: ningún socio ha respondido todavía.', 'Consulta {id}: nenhum parceiro respondeu ainda.', 'Requête {id} : aucun partenaire n’a encore répondu.'],
  'q.answer.answered': ['Answered', 'Respondió', 'Respondeu', 'A répondu'],
  'q.answer.waiting': ['Not answered yet', 'Aún sin respuesta', 'Ainda sem resposta', 'Pas encore de réponse'],
  'q.answer.offline': ['Offline: not answered', 'Desconectado: sin respuesta', 'Desligado: sem resposta', 'Hors ligne : pas de réponse'],
  'q.answer.refused': ['Refused by the partner', 'Rechazada por el socio', 'Recusada pelo parceiro', 'Refusée par le partenaire'],
  'q.answer.failed': ['Answer could not be used', 'Respuesta inutilizable', 'Resposta inutilizável', 'Réponse inutilisable'],
  'q.offlineHelp': ['{partner} did not answer within the wait. Its answer is picked up when it comes: use “Check again”, or wait for the notice.', '{partner} no respondió dentro del tiempo de espera. Su respuesta se recoge cuando llegue: use «Comprobar de nuevo» o espere el aviso.', '{partner} não respondeu dentro do tempo de espera. A resposta é recolhida quando chegar: use «Verificar de novo» ou aguarde o aviso.', '{partner} n’a pas répondu dans le délai. Sa réponse sera recueillie à son arrivée : utilisez « Vérifier à nouveau » ou attendez l’avis.'],
  'q.proofOk': ['Proof verified', 'Prueba verificada', 'Prova verificada', 'Preuve vérifiée'],
  'q.proofBad': ['Proof NOT verified', 'Prueba NO verificada', 'Prova NÃO verificada', 'Preuve NON vérifiée'],
  'q.noAnswerYet': ['no answer yet', 'sin respuesta aún', 'sem resposta ainda', 'pas encore de réponse'],
  'q.hit': ['HIT', 'ACIERTO', 'POSITIVO', 'POSITIF'],
  'q.noHit': ['no hit', 'sin acierto', 'sem resultado', 'aucun résultat'],
  'q.notAnswered': ['not answered', 'sin respuesta', 'sem resposta', 'sans réponse'],
  'q.unknownProof': ['unknown (proof failed)', 'desconocido (prueba fallida)', 'desconhecido (prova falhou)', 'inconnu (preuve en échec)'],
  'q.hitNext': ['Next step: confirm the match in Matches, then prepare the request to {partner}.', 'Siguiente paso: confirme la coincidencia en Coincidencias y prepare la solicitud a {partner}.', 'Próximo passo: confirme a correspondência em Correspondências e prepare o pedido a {partner}.', 'Étape suivante : confirmez la correspondance dans Correspondances, puis préparez la demande à {partner}.'],
  'q.quotaLeft': ['{left} of {perDay} queries left today', 'quedan {left} de {perDay} consultas hoy', 'restam {left} de {perDay} consultas hoje', '{left} requêtes sur {perDay} restantes aujourd’hui'],
  'q.checkAgain': ['Check again', 'Comprobar de nuevo', 'Verificar de novo', 'Vérifier à nouveau'],
  'q.checking': ['Checking…', 'Comprobando…', 'A verificar…', 'Vérification…'],
  'q.refreshed': ['Query {id} checked again.', 'Consulta {id} comprobada de nuevo.', 'Consulta {id} verificada de novo.', 'Requête {id} vérifiée à nouveau.'],
  'q.lateArrived': ['{partner} has now answered query {id} (case {caseRef}): {hits}.', '{partner} ya ha respondido a la consulta {id} (caso {caseRef}): {hits}.', '{partner} já respondeu à consulta {id} (caso {caseRef}): {hits}.', '{partner} a maintenant répondu à la requête {id} (dossier {caseRef}) : {hits}.'],
  'q.recent': ['Recent queries', 'Consultas recientes', 'Consultas recentes', 'Requêtes récentes'],
  'q.noRecent': ['No queries yet.', 'Todavía no hay consultas.', 'Ainda não há consultas.', 'Aucune requête pour l’instant.'],
  'q.col.sent': ['Sent', 'Enviada', 'Enviada', 'Envoyée'],
  'q.col.query': ['Query', 'Consulta', 'Consulta', 'Requête'],
  'q.col.officer': ['Officer', 'Agente', 'Agente', 'Agent'],
  'q.col.value': ['Value', 'Valor', 'Valor', 'Valeur'],
  'q.col.result': ['Result', 'Resultado', 'Resultado', 'Résultat'],
  'q.answersFrom': ['Answers from {partner}', 'Respuestas de {partner}', 'Respostas de {partner}', 'Réponses de {partner}'],
  'q.valueN': ['Value {n}', 'Valor {n}', 'Valor {n}', 'Valeur {n}'],
  'q.what.options': ['the query options', 'las opciones de consulta', 'as opções de consulta', 'les options de requête'],
  'q.what.recent': ['recent queries', 'las consultas recientes', 'as consultas recentes', 'les requêtes récentes'],

  // Audit
  'a.title': ['Audit', 'Auditoría', 'Auditoria', 'Audit'],
  'a.lead': ['Who did what, as recorded here and by the coordinator, newest first. Entries never contain identifier values.', 'Quién hizo qué, según lo registrado aquí y por el coordinador, lo más reciente primero. Las entradas nunca contienen valores de identificadores.', 'Quem fez o quê, como registado aqui e pelo coordenador, o mais recente primeiro. As entradas nunca contêm valores de identificadores.', 'Qui a fait quoi, tel que consigné ici et par le coordinateur, du plus récent au plus ancien. Les entrées ne contiennent jamais de valeurs d’identifiants.'],
  'a.filters': ['Filter audit entries', 'Filtrar la auditoría', 'Filtrar a auditoria', 'Filtrer l’audit'],
  'a.from': ['From date', 'Desde', 'Desde', 'Du'],
  'a.to': ['To date', 'Hasta', 'Até', 'Au'],
  'a.officer': ['Officer (part of the ID)', 'Agente (parte del identificador)', 'Agente (parte do identificador)', 'Agent (partie de l’identifiant)'],
  'a.case': ['Case reference (part)', 'Referencia del caso (parte)', 'Referência do caso (parte)', 'Référence du dossier (partie)'],
  'a.source': ['Recorded by', 'Registrado por', 'Registado por', 'Consigné par'],
  'a.both': ['Both', 'Ambos', 'Ambos', 'Les deux'],
  'a.local': ['This agency', 'Esta agencia', 'Esta agência', 'Cette agence'],
  'a.coordinator': ['Coordinator', 'Coordinador', 'Coordenador', 'Coordinateur'],
  'a.mine': ['Only my actions', 'Solo mis acciones', 'Apenas as minhas ações', 'Mes actions seulement'],
  'a.plumbing': ['Show the nightly exchange’s technical steps', 'Mostrar los pasos técnicos del intercambio nocturno', 'Mostrar os passos técnicos da troca noturna', 'Afficher les étapes techniques de l’échange nocturne'],
  'a.hiddenPlumbing': ['{n} technical steps of the nightly exchange are hidden.', 'Se ocultan {n} pasos técnicos del intercambio nocturno.', 'Estão ocultos {n} passos técnicos da troca noturna.', '{n} étapes techniques de l’échange nocturne sont masquées.'],
  'a.exportJsonl': ['Export JSON Lines', 'Exportar JSON Lines', 'Exportar JSON Lines', 'Exporter en JSON Lines'],
  'a.exportCsv': ['Export CSV', 'Exportar CSV', 'Exportar CSV', 'Exporter en CSV'],
  'a.print': ['Print', 'Imprimir', 'Imprimir', 'Imprimer'],
  'a.exported': ['Export started; your browser saves the file. The export itself is recorded in the audit log.', 'Exportación iniciada; el navegador guarda el archivo. La exportación queda registrada en la auditoría.', 'Exportação iniciada; o navegador guarda o ficheiro. A exportação fica registada na auditoria.', 'Export lancé ; le navigateur enregistre le fichier. L’export est lui-même consigné dans l’audit.'],
  'a.dateOrder': ['“From date” is after “To date”.', '«Desde» es posterior a «Hasta».', '«Desde» é posterior a «Até».', '« Du » est postérieur à « Au ».'],
  'a.loading': ['Loading audit entries…', 'Cargando la auditoría…', 'A carregar a auditoria…', 'Chargement de l’audit…'],
  'a.what': ['the audit log', 'la auditoría', 'a auditoria', 'l’audit'],
  'a.missingCoordinator': ['The coordinator could not be reached; only this agency’s own entries are shown.', 'No se pudo contactar con el coordinador; solo se muestran las entradas de esta agencia.', 'Não foi possível contactar o coordenador; só são mostradas as entradas desta agência.', 'Le coordinateur est injoignable ; seules les entrées de cette agence sont affichées.'],
  'a.empty': ['No audit entries for these filters.', 'No hay entradas para estos filtros.', 'Não há entradas para estes filtros.', 'Aucune entrée pour ces filtres.'],
  'a.caption': ['{n} actions, newest first', '{n} acciones, las más recientes primero', '{n} ações, as mais recentes primeiro', '{n} actions, de la plus récente à la plus ancienne'],
  'a.truncated': ['Showing the newest {shown} of {n} actions; the export has all of them.', 'Se muestran las {shown} acciones más recientes de {n}; la exportación las incluye todas.', 'São mostradas as {shown} ações mais recentes de {n}; a exportação inclui todas.', 'Affichage des {shown} actions les plus récentes sur {n} ; l’export les contient toutes.'],
  'a.col.time': ['Time (local)', 'Hora (local)', 'Hora (local)', 'Heure (locale)'],
  'a.col.utc': ['UTC', 'UTC', 'UTC', 'UTC'],
  'a.col.what': ['What happened', 'Qué ocurrió', 'O que aconteceu', 'Ce qui s’est passé'],
  'a.col.who': ['Who', 'Quién', 'Quem', 'Qui'],
  'a.col.case': ['Case', 'Caso', 'Caso', 'Dossier'],
  'a.col.recordedBy': ['Recorded by', 'Registrado por', 'Registado por', 'Consigné par'],
  'a.col.outcome': ['Outcome', 'Resultado', 'Resultado', 'Résultat'],
  'a.outcome.ok': ['done', 'hecho', 'feito', 'fait'],
  'a.outcome.refused': ['refused', 'rechazado', 'recusado', 'refusé'],
  'a.bothLogs': ['here and at the coordinator', 'aquí y en el coordinador', 'aqui e no coordenador', 'ici et chez le coordinateur'],
  'a.onlyLocal': ['here only', 'solo aquí', 'apenas aqui', 'ici seulement'],
  'a.onlyCoordinator': ['coordinator only', 'solo el coordinador', 'apenas o coordenador', 'coordinateur seulement'],
  'a.raw': ['Recorded as', 'Registrado como', 'Registado como', 'Consigné comme'],
  's.login': ['{who} signed in', '{who} inició sesión', '{who} iniciou sessão', '{who} s’est connecté'],
  's.loginRefused': ['Failed sign-in for {subject}', 'Acceso fallido para {subject}', 'Acesso falhado para {subject}', 'Échec de connexion pour {subject}'],
  's.logout': ['{who} signed out', '{who} cerró la sesión', '{who} terminou a sessão', '{who} s’est déconnecté'],
  's.queryCreate': ['{who} asked {partners} about {n} {kind} values for {purpose}', '{who} consultó a {partners} sobre {n} valores de {kind} para {purpose}', '{who} consultou {partners} sobre {n} valores de {kind} para {purpose}', '{who} a interrogé {partners} sur {n} valeurs {kind} pour {purpose}'],
  's.queryRefused': ['{who}’s query was refused: {reason}', 'La consulta de {who} fue rechazada: {reason}', 'A consulta de {who} foi recusada: {reason}', 'La requête de {who} a été refusée : {reason}'],
  's.queryResult': ['The answers to query {subject} were checked: {hits}', 'Se comprobaron las respuestas a la consulta {subject}: {hits}', 'As respostas à consulta {subject} foram verificadas: {hits}', 'Les réponses à la requête {subject} ont été vérifiées : {hits}'],
  's.hitConfirm': ['{who} confirmed match {subject}', '{who} confirmó la coincidencia {subject}', '{who} confirmou a correspondência {subject}', '{who} a confirmé la correspondance {subject}'],
  's.hitDecline': ['{who} declined match {subject}', '{who} rechazó la coincidencia {subject}', '{who} recusou a correspondência {subject}', '{who} a refusé la correspondance {subject}'],
  's.export': ['{who} exported the audit log ({n} entries)', '{who} exportó la auditoría ({n} entradas)', '{who} exportou a auditoria ({n} entradas)', '{who} a exporté l’audit ({n} entrées)'],
  's.prefs': ['{who} changed the console language', '{who} cambió el idioma de la consola', '{who} mudou o idioma da consola', '{who} a changé la langue de la console'],
  's.agreementAccept': ['{who} accepted agreement {subject}', '{who} aceptó el acuerdo {subject}', '{who} aceitou o acordo {subject}', '{who} a accepté l’accord {subject}'],
  's.agreementReject': ['{who} rejected agreement {subject}', '{who} rechazó el acuerdo {subject}', '{who} rejeitou o acordo {subject}', '{who} a rejeté l’accord {subject}'],
  's.officer': ['Officer account {subject} changed ({action})', 'Cuenta de agente {subject} modificada ({action})', 'Conta de agente {subject} alterada ({action})', 'Compte d’agent {subject} modifié ({action})'],
  's.partnerQuery': ['{actor} asked this agency a query (case {caseRef})', '{actor} hizo una consulta a esta agencia (caso {caseRef})', '{actor} fez uma consulta a esta agência (caso {caseRef})', '{actor} a adressé une requête à cette agence (dossier {caseRef})'],
  's.partnerHit': ['{actor} {verb} match {subject}', '{actor} {verb} la coincidencia {subject}', '{actor} {verb} a correspondência {subject}', '{actor} {verb} la correspondance {subject}'],
  's.refused': ['The coordinator refused a request from {actor} ({action})', 'El coordinador rechazó una petición de {actor} ({action})', 'O coordenador recusou um pedido de {actor} ({action})', 'Le coordinateur a refusé une demande de {actor} ({action})'],
  's.logCheck': ['The coordinator’s audit log failed this agency’s check', 'La auditoría del coordinador no superó la comprobación de esta agencia', 'A auditoria do coordenador falhou a verificação desta agência', 'Le journal d’audit du coordinateur a échoué à la vérification de cette agence'],
  's.other': ['{actor}: {action} on {subject}', '{actor}: {action} sobre {subject}', '{actor}: {action} sobre {subject}', '{actor} : {action} sur {subject}'],
  'verb.confirmed': ['confirmed', 'confirmó', 'confirmou', 'a confirmé'],
  'verb.declined': ['declined', 'rechazó', 'recusou', 'a refusé'],
  'a.system': ['the system', 'el sistema', 'o sistema', 'le système'],

  // Trends
  't.title': ['Trends', 'Tendencias', 'Tendências', 'Tendances'],
  't.lead': ['Nightly overlaps with each partner and the use of the targeted-query quota.', 'Coincidencias nocturnas con cada socio y el uso de la cuota de consultas.', 'Correspondências noturnas com cada parceiro e o uso da quota de consultas.', 'Recoupements nocturnes avec chaque partenaire et l’usage du quota de requêtes.'],
  't.period': ['Period', 'Periodo', 'Período', 'Période'],
  't.lastDays': ['Last {n} days', 'Últimos {n} días', 'Últimos {n} dias', '{n} derniers jours'],
  't.loading': ['Loading trends…', 'Cargando tendencias…', 'A carregar tendências…', 'Chargement des tendances…'],
  't.what': ['trends', 'las tendencias', 'as tendências', 'les tendances'],
} as const satisfies Record<string, Row>;

export type Key = keyof typeof T;

let current: Language = 'en';
const listeners = new Set<() => void>();

export function language(): Language {
  return current;
}

/** The BCP 47 locale for Intl (dates, numbers) of the current language. */
export function locale(): string {
  return LOCALES[current];
}

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

export function setLanguage(l: Language): void {
  if (l === current) return;
  current = l;
  document.documentElement.lang = l;
  for (const f of listeners) f();
}

export function onLanguageChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** The label of `key` in the current language, `{name}` placeholders filled. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const row: Row = T[key];
  const text = row[LANGUAGES.indexOf(current)] ?? row[0];
  return text.replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = vars[name];
    if (v === undefined) return m;
    return typeof v === 'number' ? v.toLocaleString(locale()) : v;
  });
}

/** `key.one` or `key.other` by Intl.PluralRules, with `{n}` filled. */
export function tn(key: 'people' | 'ov.hits' | 'q.count', n: number): string {
  const form = new Intl.PluralRules(locale()).select(n) === 'one' ? 'one' : 'other';
  return t(`${key}.${form}` as Key, { n });
}
