"""The default content installed by the data migration: messages, answer words, keywords, rules.

After the first `migrate` this content lives in the database and is edited in admin; a later
migrate never overwrites it. The code also falls back to these texts when a row is missing, so
a deleted emergency message can never leave a patient without an answer.

Every message fits one GSM-7 segment (tests/triage/test_defaults.py checks it). Spanish drops
a/i/o/u accents on purpose: any of them forces UCS-2 and halves the characters per SMS (F07).
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "es")

MESSAGES: dict[str, dict[str, str]] = {
    # ---- system
    "sys.welcome": {
        "en": "BackCheck: a few quick questions about your back pain. Automated, not a diagnosis, not monitored 24/7. Emergency: call 911. Reply STOP to end, HELP for help.",
        "es": "BackCheck: unas preguntas sobre su dolor de espalda. Servicio automatizado, no es un diagnostico. Emergencia: llame al 911. STOP para salir, AYUDA para ayuda.",
    },
    "sys.help": {
        "en": "{service}: automated back-pain info, max 3 msgs/wk. Not for emergencies: call 911. STOP to end. Help: {contact}. Msg&data rates may apply.",
        "es": "{service}: info automatizada de dolor de espalda, max 3 msj/sem. No es para emergencias: 911. STOP para salir. Ayuda: {contact}. Aplican tarifas.",
    },
    "sys.optout": {
        "en": "You're unsubscribed from BackCheck and will get no more messages. If you have an emergency, call 911.",
        "es": "Se ha dado de baja de BackCheck y no recibira mas mensajes. Si tiene una emergencia, llame al 911.",
    },
    "sys.optout_emergency": {
        "en": "You're unsubscribed from BackCheck. What you describe could be serious: call 911 or go to the ER now. Do not drive yourself.",
        "es": "Se ha dado de baja de BackCheck. Lo que describe puede ser grave: llame al 911 o vaya a urgencias ahora. No conduzca.",
    },
    "sys.optout_crisis": {
        "en": "You're unsubscribed from BackCheck. If you might hurt yourself, call or text 988 now, or call 911. You are not alone.",
        "es": "Se ha dado de baja de BackCheck. Si piensa hacerse dano, llame o escriba al 988 o llame al 911 ahora. No esta solo.",
    },
    "sys.optin": {
        "en": "You're subscribed to BackCheck again. Text RESTART to start a new back-pain check. Reply STOP to end, HELP for help.",
        "es": "Se ha suscrito de nuevo a BackCheck. Escriba REINICIAR para empezar una nueva consulta. STOP para salir, AYUDA para ayuda.",
    },
    "sys.after_outcome": {
        "en": "Thanks for your message. Please follow the advice we sent. Text RESTART to start a new back-pain check. Emergency: call 911.",
        "es": "Gracias por su mensaje. Siga el consejo que le enviamos. Escriba REINICIAR para una nueva consulta. Emergencia: llame al 911.",
    },
    "sys.after_emergency": {
        "en": "If you haven't yet, call 911 or go to the ER now. When you're safe, text RESTART to start a new check.",
        "es": "Si aun no lo ha hecho, llame al 911 o vaya a urgencias ahora. Cuando este a salvo, escriba REINICIAR para una nueva consulta.",
    },
    "sys.safety_net": {
        "en": "We couldn't be sure, so to be safe: if you have leg weakness or numbness, can't pee, chest pain or can't breathe, call 911 now.",
        "es": "No pudimos estar seguros. Por seguridad: si tiene debilidad o adormecimiento en las piernas, no puede orinar, dolor de pecho o le falta el aire, llame al 911.",
    },
    "sys.language_set": {
        "en": "OK, we'll text you in English.",
        "es": "De acuerdo, le escribiremos en español.",
    },
    "sys.unreadable": {
        "en": "Sorry, we can only read text messages, not pictures or voice. Please reply in words.",
        "es": "Lo sentimos, solo podemos leer texto, no fotos ni audios. Responda con palabras, por favor.",
    },
    # Sent once per INBOUND_WINDOW_SECONDS to a sender over INBOUND_MAX_TEXTS (triage/inbound_limits.py).
    "sys.inbound_limit": {
        "en": "You've sent a lot of texts in a short time; we'll read new ones again in a few minutes. If this is an emergency call 911.",
        "es": "Ha enviado muchos mensajes en poco tiempo; leeremos los nuevos otra vez en unos minutos. Si es una emergencia, llame al 911.",
    },
    # ---- UK (+44) variants: Content.text() prefers "<key>_gb" for a UK number
    "sys.welcome_gb": {
        "en": "BackCheck: a few quick questions about your back pain. Automated, not a diagnosis, not monitored 24/7. Emergency: call 999. Reply STOP to end, HELP for help.",
        "es": "BackCheck: unas preguntas sobre su dolor de espalda. Servicio automatizado, no es un diagnostico. Emergencia: llame al 999. STOP para salir, AYUDA para ayuda.",
    },
    "sys.safety_net_gb": {
        "en": "We couldn't be sure, so to be safe: if you have leg weakness or numbness, can't pee, chest pain or can't breathe, call 999 now.",
        "es": "No pudimos estar seguros. Por seguridad: si tiene debilidad o adormecimiento en las piernas, no puede orinar, dolor de pecho o le falta el aire, llame al 999.",
    },
    "sys.after_outcome_gb": {
        "en": "Thanks for your message. Please follow the advice we sent. Text RESTART to start a new back-pain check. Emergency: call 999.",
        "es": "Gracias por su mensaje. Siga el consejo que le enviamos. Escriba REINICIAR para una nueva consulta. Emergencia: llame al 999.",
    },
    "sys.after_emergency_gb": {
        "en": "If you haven't yet, call 999 or go to A&E now. When you're safe, text RESTART to start a new check.",
        "es": "Si aun no lo ha hecho, llame al 999 o vaya a urgencias ahora. Cuando este a salvo, escriba REINICIAR para una nueva consulta.",
    },
    "sys.inbound_limit_gb": {
        "en": "You've sent a lot of texts in a short time; we'll read new ones again in a few minutes. If this is an emergency call 999.",
        "es": "Ha enviado muchos mensajes en poco tiempo; leeremos los nuevos otra vez en unos minutos. Si es una emergencia, llame al 999.",
    },
    "sys.help_gb": {
        "en": "{service}: automated back-pain info, max 3 msgs/wk. Not for emergencies: call 999. STOP to end. Help: {contact}. Msg&data rates may apply.",
        "es": "{service}: info automatizada de dolor de espalda, max 3 msj/sem. No es para emergencias: 999. STOP para salir. Ayuda: {contact}. Aplican tarifas.",
    },
    "sys.optout_gb": {
        "en": "You're unsubscribed from BackCheck and will get no more messages. If you have an emergency, call 999.",
        "es": "Se ha dado de baja de BackCheck y no recibira mas mensajes. Si tiene una emergencia, llame al 999.",
    },
    "sys.optout_emergency_gb": {
        "en": "You're unsubscribed from BackCheck. What you describe could be serious: call 999 or go to A&E now. Do not drive yourself.",
        "es": "Se ha dado de baja de BackCheck. Lo que describe puede ser grave: llame al 999 o vaya a urgencias ahora. No conduzca.",
    },
    "sys.optout_crisis_gb": {
        "en": "You're unsubscribed from BackCheck. If you might hurt yourself, call Samaritans free on 116 123, or call 999 now. You are not alone.",
        "es": "Se ha dado de baja de BackCheck. Si piensa hacerse dano, llame gratis a Samaritans al 116 123 o al 999 ahora. No esta solo.",
    },
    "outcome.soon_watch_gb": {
        "en": "Call 999 at once if you get leg weakness or numbness, trouble peeing, chest pain or trouble breathing. We'll check in with you by text.",
        "es": "Llame al 999 enseguida si nota debilidad o adormecimiento en las piernas, problemas para orinar, dolor de pecho o falta de aire.",
    },
    "outcome.routine_watch_gb": {
        "en": "See a doctor if it's not better in 6 weeks, or sooner if it gets worse. Leg weakness/numbness, trouble peeing, chest pain or breathlessness: call 999.",
        "es": "Vea a un medico si no mejora en 6 semanas, o antes si empeora. Debilidad/adormecimiento de piernas, no poder orinar, dolor de pecho o falta de aire: 999.",
    },
    # ---- questions (rule ids in brackets are the rules each question serves)
    "q.emergency_screen": {  # E00 (E01-E03, E05-E07)
        "en": "Right now do you have ANY of: weak/numb legs, trouble peeing or bladder/bowel control, chest pain, hard to breathe, coughing blood? Reply YES or NO",
        "es": "¿Tiene AHORA algo de esto?: piernas debiles o dormidas, problemas para orinar o de control de vejiga/intestino, dolor de pecho, ahogo, tos con sangre. SI o NO",
    },
    "q.emergency_screen.reask": {
        "en": "To keep you safe I need a YES or NO: right now, any leg weakness or numbness, bladder or bowel problems, chest pain, hard to breathe, or coughing blood?",
        "es": "Por seguridad necesito SI o NO: ¿tiene ahora piernas debiles o dormidas, problemas de vejiga o intestino, dolor de pecho, falta de aire o tos con sangre?",
    },
    "q.emergency_more": {  # E00 (E04, E08, E09, E11)
        "en": "Did the pain start suddenly with tearing pain, or after a serious accident? Or is your face drooping, speech slurred, or fever with confusion? YES or NO",
        "es": "¿Empezo el dolor de golpe, como un desgarro, o tras un accidente grave? ¿O tiene la cara caida, habla rara, o fiebre con confusion? SI o NO",
    },
    "q.emergency_more.reask": {
        "en": "Please reply YES or NO: sudden tearing pain, a serious accident, a drooping face or slurred speech, or a fever with confusion?",
        "es": "Responda SI o NO: ¿dolor repentino como desgarro, accidente grave, cara caida o habla rara, o fiebre con confusion?",
    },
    "q.urgent_signs": {  # U01, U03, U04, U05
        "en": "Do any of these apply? Reply with all the letters, or NONE. A) ever had cancer B) fever C) weight loss without trying D) pain at night or at rest",
        "es": "¿Le pasa algo de esto? Responda con las letras, o NADA. A) ha tenido cancer B) fiebre C) pierde peso sin querer D) dolor de noche o en reposo",
    },
    "q.urgent_signs.more": {  # U06, U07, U02, U12, U10
        "en": "E) worse on cough, sneeze or strain F) hurts to breathe in G) coughed up spots of blood H) short of breath at rest I) a lump or change in your back's shape",
        "es": "E) peor al toser, estornudar o pujar F) duele al respirar hondo G) tos con puntos de sangre H) falta de aire en reposo I) bulto o cambio de forma en la espalda",
    },
    "q.urgent_signs.reask": {
        "en": "Sorry, I didn't get that. Reply with the letters A to I that apply (e.g. B D), or NONE if none of them do.",
        "es": "Perdone, no le entendi. Responda con las letras de la A a la I que le pasen (p. ej. B D), o NADA si ninguna.",
    },
    "q.cancer_band": {  # E10
        "en": "Because you've had cancer: is there new pain in a band around your chest or tummy, or shooting down an arm? Reply YES or NO",
        "es": "Como ha tenido cancer: ¿tiene dolor nuevo como una banda alrededor del pecho o la barriga, o que baja por un brazo? SI o NO",
    },
    "q.cancer_band.reask": {
        "en": "Please reply YES or NO: any new pain like a band around your chest or tummy, or pain shooting down an arm?",
        "es": "Responda SI o NO: ¿dolor nuevo como una banda alrededor del pecho o la barriga, o que baja por un brazo?",
    },
    "q.pain_now": {  # U11, trend for U09/S01/S07/S09
        "en": "How bad is the pain now, from 0 (none) to 10 (worst)? And is it getting better, staying the same or getting worse? e.g. 5 same",
        "es": "¿Cuanto le duele ahora, de 0 (nada) a 10 (lo peor)? ¿Y va mejor, igual o peor? Ej.: 5 igual",
    },
    "q.pain_now.reask": {
        "en": "Sorry, I didn't get that. Please send a number from 0 to 10 and better, same or worse, e.g. 6 worse",
        "es": "Perdone, no le entendi. Envie un numero del 0 al 10 y mejor, igual o peor. Ej.: 6 peor",
    },
    "q.pain_now.score": {
        "en": "Thanks. And how bad is it right now, from 0 (no pain) to 10 (worst pain)?",
        "es": "Gracias. ¿Y cuanto le duele ahora, de 0 (nada) a 10 (lo peor)?",
    },
    "q.pain_now.trend": {
        "en": "Thanks. Is it getting better, staying the same or getting worse?",
        "es": "Gracias. ¿Va mejor, igual o peor?",
    },
    "q.history": {  # S01, U09, U08
        "en": "How long have you had it, how did it start, and how old are you? e.g. 2 weeks, lifting, 35 / 3 months, no reason, 60 / 5 days, a fall, 72",
        "es": "¿Desde cuando le duele, como empezo y que edad tiene? Ej.: 2 semanas, cargando peso, 35 / 3 meses, sin razon, 60 / 5 dias, una caida, 72",
    },
    "q.history.reask": {
        "en": "Sorry, I didn't get that. How many days or weeks have you had the pain, and did it start from a strain, a fall, or no clear reason?",
        "es": "Perdone, no le entendi. ¿Cuantos dias o semanas lleva con dolor, y empezo por un esfuerzo, una caida o sin razon clara?",
    },
    "q.history.weeks": {
        "en": "And how long have you had this pain? e.g. 10 days or 3 weeks",
        "es": "¿Y desde cuando tiene este dolor? Ej.: 10 dias o 3 semanas",
    },
    "q.history.cause": {
        "en": "And how did it start: a strain or posture (lifting, sport, desk work), a fall or knock, or no clear reason?",
        "es": "¿Y como empezo: por un esfuerzo o postura (cargar, deporte, escritorio), una caida o golpe, o sin razon clara?",
    },
    "q.fall_bones": {  # U08
        "en": "Are you 50 or older, or do you have thin bones (osteoporosis) or take steroid tablets? Reply YES or NO",
        "es": "¿Tiene 50 años o mas, huesos fragiles (osteoporosis) o toma pastillas de corticoides? SI o NO",
    },
    "q.fall_bones.reask": {
        "en": "Please reply YES or NO: are you 50+, or do you have thin bones or take steroid tablets?",
        "es": "Responda SI o NO: ¿tiene 50 años o mas, huesos fragiles o toma corticoides?",
    },
    "q.other_signs": {  # S02-S07, NG12 count for S08
        "en": "For weeks, any of these? Reply letters or NONE. A) cough B) breathless on stairs C) tired all the time D) chest infections E) pain into ribs/shoulder",
        "es": "¿Desde hace semanas tiene algo de esto? Responda letras o NADA. A) tos B) falta de aire al subir escaleras C) cansancio D) infecciones de pecho",
    },
    "q.other_signs.more": {
        "en": "F) physio or painkillers not helping G) poor appetite",
        "es": "E) dolor hacia costillas u hombro F) fisioterapia o analgesicos no ayudan G) poco apetito",
    },
    "q.other_signs.reask": {
        "en": "Sorry, I didn't get that. Reply with the letters A to G that apply (e.g. A C), or NONE.",
        "es": "Perdone, no le entendi. Responda con las letras de la A a la G que le pasen (p. ej. A C), o NADA.",
    },
    "q.history.age": {
        "en": "And how old are you? e.g. 45",
        "es": "¿Y que edad tiene? Ej.: 45",
    },
    "q.age_smoking": {  # S08, S09, U08
        "en": "Last one: how old are you, and have you ever smoked? e.g. 45 no",
        "es": "Ultima pregunta: ¿que edad tiene y ha fumado alguna vez? Ej.: 45 no",
    },
    "q.age_smoking.reask": {
        "en": "Please send your age as a number, and YES or NO for ever smoked, e.g. 52 yes",
        "es": "Envie su edad en numero y SI o NO si ha fumado alguna vez. Ej.: 52 si",
    },
    "q.age_smoking.smoked": {
        "en": "Thanks. Have you ever smoked? Reply YES or NO",
        "es": "Gracias. ¿Ha fumado alguna vez? SI o NO",
    },
    # ---- outcomes
    "outcome.emergency": {
        "en": "This could be serious. Call 911 or go to the nearest ER now. Do not drive yourself. This is an automated service, not a diagnosis.",
        "es": "Esto puede ser grave. Llame al 911 o vaya a urgencias ahora. No conduzca. Servicio automatizado, no es un diagnostico.",
    },
    "outcome.emergency_gb": {
        "en": "This could be serious. Call 999 or go to A&E now. Do not drive yourself. This is an automated service, not a diagnosis.",
        "es": "Esto puede ser grave. Llame al 999 o vaya a urgencias ahora. No conduzca. Servicio automatizado, no es un diagnostico.",
    },
    "outcome.crisis": {
        "en": "You matter. Please call or text 988 now to talk to someone, or call 911. You are not alone.",
        "es": "Usted importa. Llame o escriba al 988 ahora para hablar con alguien, o llame al 911. No esta solo.",
    },
    "outcome.crisis_gb": {
        "en": "You matter. Please call Samaritans free on 116 123 now to talk to someone, or call 999. You are not alone.",
        "es": "Usted importa. Llame gratis a Samaritans al 116 123 ahora para hablar con alguien, o llame al 999. No esta solo.",
    },
    "outcome.urgent": {
        "en": "Please speak to a doctor or nurse today: call your doctor or go to urgent care. If it gets worse or you get new numbness/weakness, call 911.",
        "es": "Hable hoy con un medico o enfermera (su medico o urgencias de atencion primaria). Si empeora o nota adormecimiento/debilidad nueva: 911.",
    },
    "outcome.urgent_gb": {
        "en": "Please speak to a doctor or nurse today: ask your GP for an urgent appointment or call NHS 111. If worse or new numbness/weakness: call 999.",
        "es": "Hable hoy con un medico o enfermera: pida cita urgente a su medico de cabecera (GP) o llame al NHS 111. Si empeora o nota adormecimiento/debilidad: 999.",
    },
    "outcome.urgent_cancer": {
        "en": "Because you've had cancer, contact your cancer team or their 24h line today. New leg weakness/numbness or bladder problems: call 911 now.",
        "es": "Como ha tenido cancer, llame hoy a su equipo de oncologia o su linea de 24 h. Si nota debilidad o adormecimiento nuevo en las piernas: 911.",
    },
    "outcome.urgent_cancer_gb": {
        "en": "Because you've had cancer, contact your cancer team or their 24h line today. New leg weakness/numbness or bladder problems: call 999 now.",
        "es": "Como ha tenido cancer, llame hoy a su equipo de oncologia o su linea de 24 h. Si nota debilidad o adormecimiento nuevo en las piernas: 999.",
    },
    "outcome.disclaimer": {
        "en": "Automated info service, not a diagnosis or medical advice, not monitored 24/7. Emergency: call 911. Reply STOP to end, HELP for help.",
        "es": "Servicio automatizado, no es un diagnostico ni consejo medico, no se vigila 24 h. Emergencia: llame al 911. STOP para salir, AYUDA para ayuda.",
    },
    "outcome.disclaimer_gb": {
        "en": "Automated info service, not a diagnosis or medical advice, not monitored 24/7. Emergency: call 999. Reply STOP to end, HELP for help.",
        "es": "Servicio automatizado, no es un diagnostico ni consejo medico, no se vigila 24 h. Emergencia: llame al 999. STOP para salir, AYUDA para ayuda.",
    },
    "outcome.soon": {
        "en": "Please book an appointment with your doctor in the next 1-2 weeks and mention this back pain and your other symptoms. Text us if anything gets worse.",
        "es": "Pida cita con su medico en las proximas 1-2 semanas y cuentele este dolor de espalda y sus otros sintomas. Escribanos si algo empeora.",
    },
    "outcome.soon_watch": {
        "en": "Call 911 at once if you get leg weakness or numbness, trouble peeing, chest pain or trouble breathing. We'll check in with you by text.",
        "es": "Llame al 911 enseguida si nota debilidad o adormecimiento en las piernas, problemas para orinar, dolor de pecho o falta de aire.",
    },
    "outcome.routine": {
        "en": "Sounds like a strain. Keep moving, use heat and OTC painkillers as the label says. We'll check in at 2 and 6 weeks. Text us if anything changes.",
        "es": "Parece una contractura. Siga moviendose, use calor y analgesicos sin receta segun el prospecto. Le escribiremos a las 2 y 6 semanas.",
    },
    "outcome.routine_watch": {
        "en": "See a doctor if it's not better in 6 weeks, or sooner if it gets worse. Leg weakness/numbness, trouble peeing, chest pain or breathlessness: call 911.",
        "es": "Vea a un medico si no mejora en 6 semanas, o antes si empeora. Debilidad/adormecimiento de piernas, no poder orinar, dolor de pecho o falta de aire: 911.",
    },
    "outcome.lower_back": {
        "en": "This service is for upper back pain. For lower back pain see your doctor. If your legs go numb/weak or you can't pee, call 911.",
        "es": "Este servicio es para dolor de espalda alta. Para dolor lumbar consulte a su medico. Si las piernas se duermen o debilitan o no puede orinar, llame al 911.",
    },
    "outcome.lower_back_gb": {
        "en": "This service is for upper back pain. For lower back pain see nhs.uk or your GP. If your legs go numb/weak or you can't pee, call 999.",
        "es": "Este servicio es para dolor de espalda alta. Para dolor lumbar vea nhs.uk o a su medico de cabecera. Si las piernas se duermen o debilitan o no orina: 999.",
    },
    # ---- check-ins (the reminders app; the plan in admin says which is sent when)
    "checkin.routine_2w": {
        "en": "{service}: it's been 2 weeks. How is your back? Reply BETTER, SAME or WORSE, or a score 0-10. New numbness, weakness or trouble peeing: call 911.",
        "es": "{service}: han pasado 2 semanas. Como esta su espalda? Responda MEJOR, IGUAL o PEOR, o del 0 al 10. Adormecimiento, debilidad o no poder orinar: 911.",
    },
    "checkin.six_weeks": {
        "en": "{service}: it's been 6 weeks. How is your back? Reply BETTER, SAME or WORSE, or a score 0-10. New numbness, weakness or trouble peeing: call 911.",
        "es": "{service}: han pasado 6 semanas. Como esta su espalda? Responda MEJOR, IGUAL o PEOR, o del 0 al 10. Adormecimiento, debilidad o no poder orinar: 911.",
    },
    "checkin.soon_1w": {
        "en": "{service}: a week ago we suggested a doctor's appointment for your back. Did you book one? Reply YES or NO. Worse or new numbness/weakness: call 911.",
        "es": "{service}: hace una semana le sugerimos pedir cita con su medico. La pidio? Responda SI o NO. Si empeora o nota adormecimiento/debilidad: 911.",
    },
    "checkin.urgent_2d": {
        "en": "{service}: 2 days ago we advised speaking to a doctor or nurse about your back. Did you? Reply YES or NO. New numbness/weakness: call 911.",
        "es": "{service}: hace 2 dias le aconsejamos hablar con un medico o enfermera. Lo hizo? Responda SI o NO. Si nota adormecimiento/debilidad: llame al 911.",
    },
    "checkin.signs": {
        "en": "Since we last texted, any NEW fever, weight loss, pain at night or at rest, coughing up blood or a lump on your back? Reply YES or NO",
        "es": "Desde nuestro ultimo mensaje, tiene fiebre, perdida de peso, dolor de noche o en reposo, tos con sangre o un bulto en la espalda NUEVOS? Responda SI o NO",
    },
    "checkin.reask": {
        "en": "Sorry, we didn't get that. How is your back pain now? Reply BETTER, SAME or WORSE, or a number from 0 (no pain) to 10 (worst).",
        "es": "Perdone, no le entendimos. Como esta su dolor de espalda? Responda MEJOR, IGUAL o PEOR, o un numero del 0 (nada) al 10 (el peor).",
    },
    "checkin.signs_reask": {
        "en": "Sorry, we didn't get that. Any new fever, weight loss, night pain, coughing up blood or lump? Reply YES or NO",
        "es": "Perdone, no le entendimos. Tiene fiebre, perdida de peso, dolor de noche, tos con sangre o un bulto nuevos? Responda SI o NO",
    },
    "checkin.booked_reask": {
        "en": "Sorry, we didn't get that. Have you booked or had an appointment about your back? Reply YES or NO",
        "es": "Perdone, no le entendimos. Pidio o tuvo cita con su medico por su espalda? Responda SI o NO",
    },
    "checkin.better": {
        "en": "Glad it's easing. Keep moving and keep up the self-care. Text us if anything changes, or RESTART for a new check. Emergency: call 911.",
        "es": "Nos alegra que mejore. Siga moviendose y cuidandose. Escribanos si algo cambia, o REINICIAR para una nueva consulta. Emergencia: 911.",
    },
    "checkin.same": {
        "en": "Thanks. Keep moving and keep up the self-care. If it gets worse or anything new starts, text us. Emergency: call 911.",
        "es": "Gracias. Siga moviendose y cuidandose. Si empeora o nota algo nuevo, escribanos. Emergencia: llame al 911.",
    },
    "checkin.see_provider": {
        "en": "Back pain that lasts 6 weeks or more should be checked. Please book an appointment with your doctor or a physio in the next 1-2 weeks.",
        "es": "Un dolor de espalda de 6 semanas o mas debe revisarse. Pida cita con su medico o fisioterapeuta en las proximas 1-2 semanas.",
    },
    "checkin.worse": {
        "en": "Your back pain is getting worse. Please book an appointment with your doctor in the next 1-2 weeks. New numbness/weakness: call 911.",
        "es": "Su dolor de espalda empeora. Pida cita con su medico en las proximas 1-2 semanas. Si nota adormecimiento o debilidad: llame al 911.",
    },
    "checkin.booked_yes": {
        "en": "Good. Keep that appointment and follow their advice. Text us if anything changes. Emergency: call 911.",
        "es": "Bien. Acuda a esa cita y siga sus consejos. Escribanos si algo cambia. Emergencia: llame al 911.",
    },
    # ---- check-ins, UK (+44) variants
    "checkin.routine_2w_gb": {
        "en": "{service}: it's been 2 weeks. How is your back? Reply BETTER, SAME or WORSE, or a score 0-10. New numbness, weakness or trouble peeing: call 999.",
        "es": "{service}: han pasado 2 semanas. Como esta su espalda? Responda MEJOR, IGUAL o PEOR, o del 0 al 10. Adormecimiento, debilidad o no poder orinar: 999.",
    },
    "checkin.six_weeks_gb": {
        "en": "{service}: it's been 6 weeks. How is your back? Reply BETTER, SAME or WORSE, or a score 0-10. New numbness, weakness or trouble peeing: call 999.",
        "es": "{service}: han pasado 6 semanas. Como esta su espalda? Responda MEJOR, IGUAL o PEOR, o del 0 al 10. Adormecimiento, debilidad o no poder orinar: 999.",
    },
    "checkin.soon_1w_gb": {
        "en": "{service}: a week ago we suggested a doctor's appointment for your back. Did you book one? Reply YES or NO. Worse or new numbness/weakness: call 999.",
        "es": "{service}: hace una semana le sugerimos pedir cita con su medico. La pidio? Responda SI o NO. Si empeora o nota adormecimiento/debilidad: 999.",
    },
    "checkin.urgent_2d_gb": {
        "en": "{service}: 2 days ago we advised speaking to a doctor or nurse about your back. Did you? Reply YES or NO. New numbness/weakness: call 999.",
        "es": "{service}: hace 2 dias le aconsejamos hablar con un medico o enfermera. Lo hizo? Responda SI o NO. Si nota adormecimiento/debilidad: llame al 999.",
    },
    "checkin.better_gb": {
        "en": "Glad it's easing. Keep moving and keep up the self-care. Text us if anything changes, or RESTART for a new check. Emergency: call 999.",
        "es": "Nos alegra que mejore. Siga moviendose y cuidandose. Escribanos si algo cambia, o REINICIAR para una nueva consulta. Emergencia: 999.",
    },
    "checkin.same_gb": {
        "en": "Thanks. Keep moving and keep up the self-care. If it gets worse or anything new starts, text us. Emergency: call 999.",
        "es": "Gracias. Siga moviendose y cuidandose. Si empeora o nota algo nuevo, escribanos. Emergencia: llame al 999.",
    },
    "checkin.worse_gb": {
        "en": "Your back pain is getting worse. Please book an appointment with your doctor in the next 1-2 weeks. New numbness/weakness: call 999.",
        "es": "Su dolor de espalda empeora. Pida cita con su medico en las proximas 1-2 semanas. Si nota adormecimiento o debilidad: llame al 999.",
    },
    "checkin.booked_yes_gb": {
        "en": "Good. Keep that appointment and follow their advice. Text us if anything changes. Emergency: call 999.",
        "es": "Bien. Acuda a esa cita y siga sus consejos. Escribanos si algo cambia. Emergencia: llame al 999.",
    },
}


# Answer words: phrase -> meaning, per language. "a little"/"sometimes" mean yes: for a warning
# sign, partly is yes.
ANSWER_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "yes": (
            "y",
            "ye",
            "yes",
            "yess",
            "yesss",
            "yea",
            "yeah",
            "yeh",
            "ya",
            "yah",
            "yep",
            "yup",
            "yas",
            "sure",
            "correct",
            "affirmative",
            "definitely",
            "absolutely",
            "true",
            "totally",
            "i do",
            "i have",
            "i am",
            "it is",
            "i did",
            "of course",
            "a little",
            "a bit",
            "kind of",
            "kinda",
            "sort of",
            "sometimes",
            "i guess so",
        ),
        "no": (
            "n",
            "no",
            "nope",
            "nah",
            "naw",
            "noo",
            "nooo",
            "nop",
            "nay",
            "none",
            "nothing",
            "neither",
            "never",
            "negative",
            "not really",
            "i dont",
            "i do not",
            "i havent",
            "i have not",
            "dont think so",
            "not at all",
            "all good",
            "im fine",
            "im ok",
        ),
        "unsure": (
            "unsure",
            "not sure",
            "maybe",
            "perhaps",
            "possibly",
            "dont know",
            "idk",
            "dunno",
            "hmm",
            "hm",
            "no idea",
        ),
    },
    "es": {
        "yes": (
            "si",
            "sip",
            "sii",
            "claro",
            "afirmativo",
            "simon",
            "aja",
            "sep",
            "obvio",
            "por supuesto",
            "asi es",
            "un poco",
            "a veces",
            "mas o menos",
            "tengo",
        ),
        "no": (
            "no",
            "nada",
            "ninguno",
            "ninguna",
            "ningun",
            "nel",
            "tampoco",
            "no tengo",
            "para nada",
            "de ninguna manera",
            "estoy bien",
        ),
        "unsure": (
            "no se",
            "no estoy seguro",
            "no estoy segura",
            "tal vez",
            "quizas",
            "quiza",
            "a lo mejor",
            "puede ser",
            "ni idea",
        ),
    },
}

# Keywords: word or phrase -> action. The Twilio/CTIA standard ones also live in code
# (understanding.OPT_OUT_WORDS etc.) so deleting a row can never stop STOP from working.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "opt_out": (
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "opt out",
        "stop all",
        "baja",
        "alto",
        "parar",
        "cancelar",
        "darme de baja",
    ),
    "opt_in": ("start", "unstop", "subscribe", "resume"),
    "help": ("help", "info", "ayuda", "informacion"),
    "restart": ("restart", "reset", "start over", "new check", "reiniciar", "empezar de nuevo"),
    "lang_en": ("english", "ingles", "in english"),
    "lang_es": ("espanol", "spanish", "en espanol"),
}

# Generated once from shared/clinical/rules.md (the clinical spec); edited in admin afterwards.
RULES: tuple[dict[str, str], ...] = (
    {
        "rule_id": "E00",
        "tier": "EMERGENCY",
        "question": "Right now do you have ANY of: weak/numb legs, trouble peeing or bladder/bowel control, chest pain, hard to breathe, coughing blood? Reply YES or NO",
        "trigger": "Combined first-contact emergency screen (any YES -> emergency message, then clarify)",
        "source": "Design (F01); items from E01-E07 sources",
    },
    {
        "rule_id": "E01",
        "tier": "EMERGENCY",
        "question": "Are your legs weak or heavy, or is walking suddenly harder than usual? Reply YES or NO",
        "trigger": "leg_weakness / gait disturbance",
        "source": "NICE NG234 (MSCC list: limb weakness, gait disturbance - contact MSCC coordinator immediately) [list via secondary sources]; NICE CG75 key priorities ('any limb weakness, difficulty in walking'); NHS back-pain page (999: weakness in both legs)",
    },
    {
        "rule_id": "E02",
        "tier": "EMERGENCY",
        "question": "Any new numbness, tingling or pins and needles in your legs, or around your genitals, bottom or inner thighs? Reply YES or NO",
        "trigger": "leg_numbness_tingling, saddle_numbness",
        "source": "NG234 (numbness, paraesthesia or sensory loss); CG75 ('sensory loss'); NHS back-pain page (999: numbness/tingling around genitals or buttocks)",
    },
    {
        "rule_id": "E03",
        "tier": "EMERGENCY",
        "question": "Any new trouble peeing, or have you lost control of your bladder or bowels? Reply YES or NO",
        "trigger": "trouble_urinating, bladder_bowel_control_loss",
        "source": "NG234/CG75 (bladder or bowel dysfunction = MSCC, oncological emergency); NHS back-pain page (999: 'difficulty peeing', 'loss of bladder or bowel control'). NOTE: source articles list 'trouble urinating' as a non-emergency red flag - this table upgrades it.",
    },
    {
        "rule_id": "E04",
        "tier": "EMERGENCY",
        "question": "Has an arm or leg suddenly gone weak or numb, or is your face drooping or speech slurred? Reply YES or NO",
        "trigger": "sudden_arm_or_leg_weakness (stroke / acute cord signs)",
        "source": "NG234 (limb weakness); source articles ('sudden weakness in arms or legs'); aortic-dissection symptom list (HSE/NHS content)",
    },
    {
        "rule_id": "E05",
        "tier": "EMERGENCY",
        "question": "Do you have chest pain, pressure or tightness, or pain spreading to your arm, jaw or neck, or feel sweaty or sick with it? Reply YES or NO",
        "trigger": "heart_attack_signs",
        "source": "American Heart Association warning signs (call 911; women more often have back or jaw pain); NHS back-pain page (999: back pain + chest pain)",
    },
    {
        "rule_id": "E06",
        "tier": "EMERGENCY",
        "question": "Do you have sharp chest or upper back pain AND trouble breathing, or are you too breathless to speak normally? Reply YES or NO",
        "trigger": "chest_pain_with_sob, sudden_severe_breathlessness",
        "source": "NHS 'Coughing up blood' page (999 if hard to breathe, very fast heartbeat, or pain in chest or upper back - possible pulmonary embolism); source articles",
    },
    {
        "rule_id": "E07",
        "tier": "EMERGENCY",
        "question": "Are you coughing up more than a few spots or streaks of blood? Reply YES or NO",
        "trigger": "coughing_blood_large",
        "source": "nhs.uk 'Coughing up blood' (Call 999/A&E if 'more than just a few spots or streaks of blood'; reviewed 13 Jun 2024)",
    },
    {
        "rule_id": "E08",
        "tier": "EMERGENCY",
        "question": "Did the pain start suddenly and feel severe, tearing or ripping, in your chest or between your shoulder blades? Reply YES or NO",
        "trigger": "tearing_pain_sudden (aortic dissection)",
        "source": "HSE (NHS content adapted) aortic dissection: 'sudden severe chest or upper back pain ... tearing, ripping' -> call 112/999",
    },
    {
        "rule_id": "E09",
        "tier": "EMERGENCY",
        "question": "Did the pain start after a serious accident, like a car crash or a fall from a height? Reply YES or NO",
        "trigger": "major_trauma",
        "source": "NHS back-pain page (999/A&E: 'it started after a serious accident, such as a car accident'); Downie 2013 (severe trauma raises fracture probability)",
    },
    {
        "rule_id": "E10",
        "tier": "EMERGENCY",
        "question": "Is there new pain in a band around your chest or tummy, or shooting down an arm? Reply YES or NO",
        "trigger": "band_like_or_radiating_pain (radicular) AND cancer_history (from U01); without cancer history -> S07/U09",
        "source": "NG234 ('radicular pain' is in the MSCC list -> immediate contact, oncological emergency); CG75 ('radicular pain'); NICE CG75 patient info ('narrow band of pain ... around the body')",
    },
    {
        "rule_id": "E11",
        "tier": "EMERGENCY",
        "question": "Do you feel very unwell with fever AND any of: confusion, very fast breathing, or blue, pale or blotchy skin? Reply YES or NO",
        "trigger": "sepsis signs",
        "source": "NHS sepsis page as quoted in a third-party source [UNVERIFIED against nhs.uk]; design safety net",
    },
    {
        "rule_id": "E12",
        "tier": "EMERGENCY",
        "question": "(Not a question: if any message mentions suicide or self-harm, reply at once with crisis numbers: US 988, UK 999 or Samaritans 116 123)",
        "trigger": "mental_health_crisis (safety net, any message)",
        "source": "Design safety net; numbers are general knowledge [UNVERIFIED in this search]",
    },
    {
        "rule_id": "U01",
        "tier": "URGENT",
        "question": "Have you ever been told you have or had cancer, of any kind? Reply YES or NO",
        "trigger": "cancer_history + any new/worsening upper back pain",
        "source": "NG234 (seek advice via MSCC coordinator within 24 h for pain suggestive of spinal metastases in anyone with past or current cancer) [list via secondary sources]; CG75 (within 24 h: 'pain in the middle (thoracic) or upper (cervical) spine'); Downie 2013 / Henschke 2013 / Deyo (history of cancer = most informative red flag)",
    },
    {
        "rule_id": "U02",
        "tier": "URGENT",
        "question": "Have you coughed up a few small spots or streaks of blood? Reply YES or NO",
        "trigger": "coughing_blood_streaks",
        "source": "nhs.uk 'Coughing up blood' (urgent GP appointment or NHS 111 for 'a few small spots, flecks or streaks'); NICE NG12 (age 40+ with unexplained haemoptysis -> suspected-cancer referral, seen within 2 weeks)",
    },
    {
        "rule_id": "U03",
        "tier": "URGENT",
        "question": "Have you had a fever or high temperature (38C/100.4F or more) with this pain? Reply YES or NO",
        "trigger": "fever",
        "source": "NHS back-pain page (urgent GP/111: 'a high temperature'); Verhagen 2016 (infection red flags)",
    },
    {
        "rule_id": "U04",
        "tier": "URGENT",
        "question": "Have you lost weight without trying? Reply YES or NO",
        "trigger": "weight_loss_unintentional",
        "source": "NHS back-pain page (urgent GP/111: 'lost weight without trying'); Verhagen 2016 (one of the 2 malignancy red flags most guidelines list); NG12 lung symptom list",
    },
    {
        "rule_id": "U05",
        "tier": "URGENT",
        "question": "Is the pain there even when you rest, worse at night, or worse the longer you lie in bed? Reply YES or NO",
        "trigger": "pain_at_rest, night_pain, worse_lying_in_bed",
        "source": "NHS back-pain page (urgent GP/111: 'does not improve after resting or is worse at night'); CG75/NG234 (nocturnal pain preventing sleep); Verhagen 2016 (night/rest pain commonly listed)",
    },
    {
        "rule_id": "U06",
        "tier": "URGENT",
        "question": "Is the pain worse when you cough, sneeze or strain on the toilet? Reply YES or NO",
        "trigger": "pain_cough_strain",
        "source": "NHS back-pain page (urgent GP/111: 'made worse when sneezing, coughing or pooing'); CG75/NG234 (spinal pain aggravated by straining)",
    },
    {
        "rule_id": "U07",
        "tier": "URGENT",
        "question": "Does the pain get worse when you take a deep breath? Reply YES or NO",
        "trigger": "pain_deep_breath (without breathlessness)",
        "source": "Source articles; NHS/HSE lung symptoms ('ache or pain when breathing or coughing'); with breathlessness -> E06",
    },
    {
        "rule_id": "U08",
        "tier": "URGENT",
        "question": "Did the pain start after a fall or knock, and are you 50+, or have thin bones or take steroid tablets? Reply YES or NO",
        "trigger": "injury_or_fall AND (age_50_plus OR osteoporosis/steroids)",
        "source": "Downie 2013 (older age, prolonged corticosteroids raise fracture probability); Northern HSC Trust back-pain page (minor trauma in older people/osteoporosis/steroids -> ED) - consider EMERGENCY if severe",
    },
    {
        "rule_id": "U09",
        "tier": "URGENT",
        "question": "Did the pain start from a clear strain or posture (lifting, sport, desk work), and is it getting better? Reply YES, NO or NOT SURE",
        "trigger": "upper_back_pain with NO clear_mechanical_cause AND NOT improving",
        "source": "NHS back-pain page (urgent GP/111 if 'the pain is coming from the top of your back (between your shoulders)'); RCGP acute back-pain guideline red flags ('thoracic pain', 'non-mechanical pain'). DESIGN DECISION - needs clinical sign-off (see report).",
    },
    {
        "rule_id": "U10",
        "tier": "URGENT",
        "question": "Is there a lump or swelling on your back, or has the shape of your back changed? Reply YES or NO",
        "trigger": "lump_or_deformity",
        "source": "NHS back-pain page (urgent GP/111: lump, swelling or changed shape); RCGP red flags ('structural deformity')",
    },
    {
        "rule_id": "U11",
        "tier": "URGENT",
        "question": "On a scale of 0-10, how bad is the pain right now? (8+ that painkillers don't ease = call a doctor today)",
        "trigger": "pain_score >= 8 and not eased by usual painkillers",
        "source": "NG234 ('severe unremitting' back pain); NHS 'severe pain' description. Threshold 8/10 is a DESIGN CHOICE [UNVERIFIED]",
    },
    {
        "rule_id": "U12",
        "tier": "URGENT",
        "question": "Are you short of breath at rest, or is your breathing getting quickly worse? Reply YES or NO",
        "trigger": "new breathlessness at rest / worsening (not severe)",
        "source": "Source articles; severe -> E06. Timeframe is a design choice.",
    },
    {
        "rule_id": "S01",
        "tier": "SOON",
        "question": "How many weeks have you had this pain? Is it better, the same or worse than when it started?",
        "trigger": "weeks_of_pain >= 6, or >= 4 and not improving",
        "source": "Source articles (6 / 6-8 weeks); Chou 2007-era risk list and NHS Gloucestershire pathway ('failure to improve after one month'); NHS back-pain page (see GP if not improving after a few weeks)",
    },
    {
        "rule_id": "S02",
        "tier": "SOON",
        "question": "Have you had physio or other treatment for this pain without it helping? Reply YES or NO",
        "trigger": "not_responding_to_treatment",
        "source": "Source articles; Deyo/JAMA Rational Clinical Exam ('failure to improve with conservative therapy' moderately specific)",
    },
    {
        "rule_id": "S03",
        "tier": "SOON",
        "question": "Have you had a cough for 2 weeks or more, or has a long-standing cough changed? Reply YES or NO",
        "trigger": "persistent_cough",
        "source": "NHS England 'Help Us Help You' lung campaign (cough for 3 weeks or more -> contact GP); source articles use >2 weeks (more sensitive); NG12 (cough in the CXR-within-2-weeks list)",
    },
    {
        "rule_id": "S04",
        "tier": "SOON",
        "question": "Have you been more breathless than usual for weeks, e.g. on stairs? Reply YES or NO",
        "trigger": "shortness_of_breath (persistent, exertional)",
        "source": "NHS campaign ('persistent breathlessness'); NG12 list",
    },
    {
        "rule_id": "S05",
        "tier": "SOON",
        "question": "Have you felt unusually tired all the time for weeks? Reply YES or NO",
        "trigger": "fatigue_chronic",
        "source": "NHS campaign ('persistent tiredness or lack of energy'); NG12 list (fatigue)",
    },
    {
        "rule_id": "S06",
        "tier": "SOON",
        "question": "Have you had chest infections that keep coming back? Reply YES or NO",
        "trigger": "recurrent_chest_infections",
        "source": "NHS campaign ('chest infections that keep coming back'); NG12 (consider urgent CXR within 2 weeks, age 40+, persistent or recurrent chest infection)",
    },
    {
        "rule_id": "S07",
        "tier": "SOON",
        "question": "Does the pain spread to your ribs, chest or shoulder and not get better? Reply YES or NO",
        "trigger": "spreading_ribs_chest_shoulder (no cancer history, no breathlessness)",
        "source": "Macmillan/NHS lung symptoms ('chest pain or shoulder pain that does not get better'); with cancer history -> E10/U01",
    },
    {
        "rule_id": "S08",
        "tier": "SOON",
        "question": "Are you 40 or older? Have you ever smoked? Reply e.g. YES YES",
        "trigger": "NG12 combination: age_40_plus AND (2+ of cough, fatigue, breathless, chest pain, weight loss, appetite loss) OR (ever_smoked AND 1+)",
        "source": "NICE NG12 (offer chest X-ray within 2 weeks) - via NICE 'information for the public' page and Macmillan summary",
    },
    {
        "rule_id": "S09",
        "tier": "SOON",
        "question": "Are you 50 or older, and is this a new kind of back pain for you? Reply YES or NO",
        "trigger": "age_50_plus AND (not improving OR first episode)",
        "source": "Deyo/JAMA Rational Clinical Exam; Henschke 2013 Cochrane (age >50 alone has high false-positive rate - use only in combination)",
    },
    {
        "rule_id": "R01",
        "tier": "ROUTINE",
        "question": "Sounds like a strain. Keep moving, use heat and OTC painkillers as the label says. We'll check in at 2 and 6 weeks. Text us if anything changes.",
        "trigger": "upper back pain, clear strain/posture cause OR improving, < 4 weeks, no flags",
        "source": "NHS back-pain self-care advice; NICE NG59 (self-management; applies to LOW back pain only - by analogy)",
    },
    {
        "rule_id": "R02",
        "tier": "ROUTINE",
        "question": "This service is for upper back pain. For lower back pain see nhs.uk or your doctor. If legs go numb/weak or you can't pee, call 911/999.",
        "trigger": "lower_back_pain_only, no flags",
        "source": "NHS back-pain page; NICE NG59 (low back pain); must still run E01-E03 (cauda equina)",
    },
)
